# The two commands of the README, and a few helpers for working on Vireo.
#   make run    install what is missing, build, and run Vireo
#   make test   install what the tests need, then run every check and test
# Both work on a fresh Debian 12 machine (as root, or with sudo).

CARGO ?= cargo
ARGS ?=

.PHONY: run build test pot install-deps install-test-deps screenshots

run: install-deps
	$(CARGO) run --release -- $(ARGS)

build: install-deps
	$(CARGO) build --release

test: install-test-deps
	./tools/run-tests.sh

install-deps:
	./tools/install-deps.sh build

install-test-deps:
	./tools/install-deps.sh test

# Regenerates the translation template from the files listed in po/POTFILES.in.
pot:
	./tools/update-pot.sh
