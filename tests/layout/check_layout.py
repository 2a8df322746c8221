#!/usr/bin/env python3
"""The house rules of the source tree, checked on every #include and file.

  check_layout.py ROOT LAYER [LAYER ...]

LAYERs are the folders bottom to top, as the top-level CMakeLists.txt lists
them (SFLSIM_LAYERS, the one place the order is written). A file belongs to
the longest layer its path starts with. Fails (exit 1, one line per finding) on:
  - an upward include: a file including a header of a later layer;
  - client/ and server/ including each other, but for the one protocol
    header they share (server/protocol.hpp);
  - LibTorch in simulator/core (the kernel is torch-free);
  - a source file over MAX_LINES lines;
  - a source file directly in simulator/ other than the entry point.
"""
import pathlib
import re
import sys

MAX_LINES = 400
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".py", ".sh"}
SHARED_PROTOCOL = {"server/protocol.hpp"}
SIBLINGS = [("client", "server")]
TORCH_FREE = ["simulator/core"]
TORCH_INCLUDE = re.compile(r'#\s*include\s*<(torch|ATen|c10|caffe2)/')
QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
SKIPPED_DIRS = {".git", "build", "build-sanitize", "results", "node_modules"}


def layer_of(path, layers):
    best = None
    for layer in layers:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def source_files(root):
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.startswith("build") for part in rel.parts[:-1]):
            continue
        if path.is_file() and (path.suffix in SOURCE_SUFFIXES or path.name == "CMakeLists.txt"):
            yield path, rel.as_posix()


def check(root, layers):
    rank = {layer: i for i, layer in enumerate(layers)}
    problems = []
    for path, rel in source_files(root):
        text = path.read_text(errors="replace")
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if lines > MAX_LINES and "fuzz/corpus" not in rel and "fuzz/regressions" not in rel:
            problems.append(f"{rel}: {lines} lines (at most {MAX_LINES}): split it by concept")
        if rel.startswith("simulator/") and rel.count("/") == 1 and rel not in ("simulator/main.cpp",
                                                                                  "simulator/CMakeLists.txt"):
            problems.append(f"{rel}: only the entry point lives directly in simulator/; put it in a folder")
        if path.suffix not in (".cpp", ".hpp", ".h"):
            continue
        mine = layer_of(rel, layers)
        if mine is None:
            continue  # tests/, scripts/: they may include any layer
        if mine in TORCH_FREE and TORCH_INCLUDE.search(text):
            problems.append(f"{rel}: includes LibTorch, but {mine} is torch-free")
        for number, line in enumerate(text.splitlines(), 1):
            match = QUOTED_INCLUDE.match(line)
            if not match:
                continue
            target = match.group(1)
            theirs = layer_of(target, layers)
            if theirs is None or theirs == mine:
                continue
            where = f"{rel}:{number}: includes {target}"
            siblings = any({mine, theirs} == {a, b} for a, b in SIBLINGS)
            if siblings and target not in SHARED_PROTOCOL:
                problems.append(f"{where}: {mine}/ and {theirs}/ meet only through {', '.join(sorted(SHARED_PROTOCOL))}")
            elif not siblings and rank[theirs] > rank[mine]:
                problems.append(f"{where}, from {theirs}/ above {mine}/ (order: {' < '.join(layers)})")
    return problems


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1])
    layers = [layer for arg in argv[2:] for layer in arg.split(";") if layer]
    problems = check(root, layers)
    for p in problems:
        print(p)
    print(f"layout: {len(problems)} problem(s) in {root}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
