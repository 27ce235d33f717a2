#!/usr/bin/env bash
#! Regenerates po/vireo.pot from the files in po/POTFILES.in and merges it into each
#! language of po/LINGUAS. xgettext 0.21 has no Rust parser; its C parser reads our
#! calls fine (it only warns about lifetimes such as 'static).
set -euo pipefail
cd "$(dirname "$0")/.."

xgettext --files-from=po/POTFILES.in --directory=. --output=po/vireo.pot \
  --from-code=UTF-8 --add-comments=Translators --package-name=vireo \
  --keyword=gettext --keyword=gettext_f --keyword=ngettext:1,2 --keyword=ngettext_f:1,2 \
  --keyword=pgettext:1c,2 --language=C 2> >(grep -v "unterminated character constant" >&2) || true
# The .ui files, desktop file, metainfo and schema go through their own parsers.
xgettext --files-from=<(grep -v '\.rs$' po/POTFILES.in) --directory=. --join-existing \
  --output=po/vireo.pot --from-code=UTF-8 --add-comments=Translators --package-name=vireo

for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --update --backup=none "po/$lang.po" po/vireo.pot
done
