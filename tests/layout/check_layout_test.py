#!/usr/bin/env python3
"""check_layout.py must fail on each rule broken once in a small planted tree
(and pass on the same tree without it). Usage: check_layout_test.py LAYERS."""
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import check_layout  # noqa: E402

LAYERS = [layer for layer in sys.argv[1].split(";") if layer]
CLEAN = {
    "simulator/core/a.hpp": "#pragma once\n#include <vector>\n",
    "client/c.cpp": '#include "server/protocol.hpp"\n#include "simulator/core/a.hpp"\n',
    "server/protocol.hpp": "#pragma once\n",
    "simulator/run/r.cpp": '#include "simulator/world/w.hpp"\n',
    "simulator/world/w.hpp": "#pragma once\n",
    "simulator/main.cpp": '#include "simulator/run/r.hpp"\n',
}
PLANTED = {
    "upward include": ("simulator/world/w.hpp", '#pragma once\n#include "simulator/run/r.hpp"\n'),
    "server includes client": ("server/s.cpp", '#include "client/c.hpp"\n'),
    "client includes more of server": ("client/d.cpp", '#include "server/session.hpp"\n'),
    "torch in the kernel": ("simulator/core/b.cpp", "#include <ATen/ATen.h>\n"),
    "long file": ("datasets/long.cpp", "int x;\n" * (check_layout.MAX_LINES + 1)),
    "loose file in simulator/": ("simulator/loose.cpp", "int y;\n"),
}


def problems_with(extra):
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        for rel, text in {**CLEAN, **extra}.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return check_layout.check(root, LAYERS)


failures = []
clean = problems_with({})
if clean:
    failures.append(f"the clean tree has problems: {clean}")
for name, (rel, text) in PLANTED.items():
    found = problems_with({rel: text})
    if len(found) != 1:
        failures.append(f"{name}: expected one problem, got {found}")
    else:
        print(f"{name}: {found[0]}")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
