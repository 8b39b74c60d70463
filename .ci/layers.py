#!/usr/bin/env python3
"""Checks that src/ keeps its layers (see the crate docs, "Layers").

Imports go one way: protocol <- model <- store <- provider <- adapters.
Within src/, code names what it uses by its layer path (`crate::model::...`),
never by a root re-export, so the layer of every dependency is visible.
This fails (exit 1) on:
  - an upward import: a file in a lower layer naming a higher layer;
  - a root path in code (`crate::Provider`) outside lib.rs;
  - an import cycle between two or more files.
Doc comments may link anywhere. Run: python3 .ci/layers.py
"""
import os
import re
import sys

LAYERS = ["protocol", "model", "store", "provider", "adapters"]
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
PATH = re.compile(r"\bcrate((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+crate::([A-Za-z0-9_:]*)\{([^;]*)\};", re.S)


def code_of(text):
    """The text without comments (doc comments included) and string literals."""
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("//"):
            out.append("")
            continue
        out.append(re.sub(r'"(?:[^"\\]|\\.)*"', '""', line.split(" //")[0]))
    return "\n".join(out)


def module_files():
    files = {}
    for root, _, names in os.walk(SRC):
        for name in names:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), SRC).replace(os.sep, "/")
            parts = rel[:-3].split("/")
            if parts[-1] in ("mod", "lib"):
                parts = parts[:-1]
            files[tuple(parts)] = rel
    return files


def resolve(files, segments):
    """The file defining the longest module prefix of `segments`."""
    for n in range(len(segments), 0, -1):
        if tuple(segments[:n]) in files:
            return files[tuple(segments[:n])]
    return None


def paths_in(code):
    found = []
    for prefix, inner in USE_GROUP.findall(code):
        for item in re.split(r"[,{}\s]+", inner):
            if item and item not in ("self", "*"):
                found.append(prefix + item.split("::")[0] if prefix else item.split("::")[0])
        # nested groups: also take their own prefixes
        for sub in re.findall(r"([A-Za-z0-9_]+)::\{", inner):
            found.append(prefix + sub)
    for match in PATH.findall(USE_GROUP.sub("", code)):
        found.append(match[2:])
    return [p.split("::") for p in found]


def main():
    files = module_files()
    errors = []
    graph = {rel: set() for rel in files.values()}
    for key, rel in files.items():
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            code = code_of(f.read())
        own = key[0] if key else None
        for segments in paths_in(code):
            first = segments[0]
            if first not in LAYERS:
                if rel != "lib.rs":
                    errors.append(f"{rel}: root path crate::{'::'.join(segments)} (name its layer)")
                continue
            if own in LAYERS and LAYERS.index(first) > LAYERS.index(own):
                errors.append(f"{rel}: upward import of crate::{'::'.join(segments)} ({own} < {first})")
            target = resolve(files, segments)
            if target and target != rel and rel != "lib.rs":
                graph[rel].add(target)
    # Cycles between files (a folder's mod.rs re-exporting its children is
    # not a use of them: skip edges from a mod.rs to its own folder).
    def inside(parent, child):
        return parent.endswith("mod.rs") and child.startswith(parent[: -len("mod.rs")])
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if inside(node, nxt):
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                errors.append("import cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    for e in errors:
        print(e)
    if errors:
        print(f"layers: {len(errors)} problem(s)")
        return 1
    print(f"layers: {len(files)} files, no upward import, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
