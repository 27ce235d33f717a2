#!/usr/bin/python3
"""AT-SPI helper of Vireo's test kit (tests/kit/binary/): reads and acts on the
accessible tree of one running application, for a test driving the real binary as a
person (or a screen reader) does.

One request per line on stdin, one JSON answer per line on stdout:
  {"op": "attach", "pid": N}                 -> {"ok": "<app name>"} once the app is on the bus
  {"op": "find", "role": R, "name": N|null, "within": ID|null}
                                             -> {"ok": [node, ...]} every match, tree order
  {"op": "children", "id": ID}               -> {"ok": [node, ...]}
  {"op": "action", "id": ID, "name": A|null} -> {"ok": true}  (A null: the first action)
  {"op": "text", "id": ID}                   -> {"ok": "<text>"}
  {"op": "tree"}                             -> {"ok": "<indented dump>"}
A node is {"id", "role", "name", "description", "states": [...], "actions": [...],
"extents": [x, y, w, h] (window coordinates), "toplevel": index of its window}.
Errors answer {"error": "<what>"}. Ids stay valid while the helper runs (an object
that went away answers with an error). Debian's python3 with gir1.2-atspi-2.0.
"""

import json
import sys
import time
import warnings

import gi

# libatspi 2.46 marks the per-interface getters deprecated; they are what it has.
warnings.filterwarnings("ignore", category=DeprecationWarning)

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

app = None
nodes = {}  # id -> accessible
ids = {}  # accessible -> id (libatspi keeps one object per remote object)


def remember(acc):
    if acc not in ids:
        ids[acc] = len(nodes) + 1
        nodes[ids[acc]] = acc
    return ids[acc]


def states(acc):
    state_set = acc.get_state_set()
    return sorted(s.value_nick for s in state_set.get_states()) if state_set else []


def actions(acc):
    try:
        action = acc.get_action_iface()
        if action is None:
            return []
        return [action.get_action_name(i) for i in range(action.get_n_actions())]
    except Exception:
        return []


def extents(acc):
    try:
        e = acc.get_extents(Atspi.CoordType.WINDOW)
        return [e.x, e.y, e.width, e.height]
    except Exception:
        return None


def describe(acc, toplevel):
    return {
        "id": remember(acc),
        "role": acc.get_role_name(),
        "name": acc.get_name() or "",
        "description": acc.get_description() or "",
        "states": states(acc),
        "actions": actions(acc),
        "extents": extents(acc),
        "toplevel": toplevel,
    }


def children(acc):
    for i in range(acc.get_child_count()):
        child = acc.get_child_at_index(i)
        if child is not None:
            yield child


def walk(acc, toplevel, depth=0):
    """(node, toplevel index, depth) for `acc` and everything under it."""
    yield acc, toplevel, depth
    for index, child in enumerate(children(acc)):
        yield from walk(child, index if acc == app else toplevel, depth + 1)


def toplevel_of(acc):
    """The index of the application's window that holds `acc`."""
    top = acc
    while True:
        parent = top.get_parent()
        if parent is None or parent == app:
            break
        top = parent
    for index, window in enumerate(children(app)):
        if window == top:
            return index
    return -1


def attach(pid):
    global app
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        desktop = Atspi.get_desktop(0)
        for candidate in children(desktop):
            try:
                if candidate.get_process_id() == pid:
                    app = candidate
                    return app.get_name()
            except Exception:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"no application with pid {pid} on the accessibility bus")


def find(role, name, within):
    root = nodes[within] if within else app
    base = toplevel_of(root) if within else None
    found = []
    for acc, toplevel, _ in walk(root, base):
        try:
            if acc.get_role_name() == role and (name is None or acc.get_name() == name):
                found.append(describe(acc, toplevel))
        except Exception:
            # A node that went away while we walked.
            continue
    return found


def dump():
    lines = []
    for acc, _, depth in walk(app, None):
        try:
            lines.append(
                "  " * depth
                + f"{acc.get_role_name()} {acc.get_name()!r} {states(acc)} {extents(acc)}"
            )
        except Exception as e:
            lines.append("  " * depth + f"<gone: {e}>")
    return "\n".join(lines)


def do_action(key, name):
    action = nodes[key].get_action_iface()
    if action is None:
        raise RuntimeError("the element has no actions")
    count = action.get_n_actions()
    names = [action.get_action_name(i) for i in range(count)]
    index = 0 if name is None else names.index(name) if name in names else -1
    if index < 0 or index >= count:
        raise RuntimeError(f"no action {name!r}; it has {names}")
    return action.do_action(index)


def text(key):
    iface = nodes[key].get_text_iface()
    if iface is None:
        return nodes[key].get_name() or ""
    # GTK 4.8 answers "" for (0, -1): ask for the character count.
    return iface.get_text(0, iface.get_character_count())


def answer(request):
    op = request.get("op")
    if op == "attach":
        return attach(request["pid"])
    if app is None:
        raise RuntimeError("attach first")
    if op == "find":
        return find(request["role"], request.get("name"), request.get("within"))
    if op == "children":
        acc = nodes[request["id"]]
        top = toplevel_of(acc)
        return [describe(c, top) for c in children(acc)]
    if op == "action":
        return do_action(request["id"], request.get("name"))
    if op == "text":
        return text(request["id"])
    if op == "tree":
        return dump()
    raise RuntimeError(f"unknown op {op!r}")


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": answer(json.loads(line))}
        except Exception as e:  # every failure is an answer, never the end
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
