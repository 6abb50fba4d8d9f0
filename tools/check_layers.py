#!/usr/bin/env python3
"""The module layers of src/: which module may include which.

A module may include its own headers and those of every module reachable from
it in GRAPH, except the pairs in FORBIDDEN. The check reads every
`#include "<module>/..."` under src/ and every `target_link_libraries` line of
src/*/CMakeLists.txt, prints FILE:LINE and the rule for each crossing, and
exits 1 if there is one. `--graph` prints the picture kept in
docs/ARCHITECTURE.md; `--docs FILE` also checks that the picture there is
this one (`--write-docs FILE` rewrites it).

The build enforces the coarse form of the same table: each module's headers
are on the include path only of targets that link its CMake target
(cmake/ArgusModules.cmake).
"""
import argparse
import os
import re
import sys

# Direct dependencies, following the data flow of the design notes:
# server -> api -> service -> vision -> ml -> core. The operation table in
# api/ names each operation's policy class, so api includes policy/'s
# vocabulary; the decisions and the audit are reached from server through the
# gate port (server::RequestGate implements api::Gate).
GRAPH = {
    "core": [],
    "ml": ["core"],
    "vision": ["ml"],
    "index": ["core"],
    "store": ["core"],
    "auth": ["store"],
    "service": ["vision", "index", "store"],
    "policy": ["auth", "store"],
    "video": ["service"],
    "jobs": ["store"],
    "stream": ["video", "service"],
    "eval": ["service"],
    "api": ["service", "policy", "video", "jobs", "stream"],
    "server": ["api", "policy", "auth", "jobs"],
    "cli": ["server", "eval"],
}

# Reachable but still forbidden: api speaks the service's types only, never
# the store's records or the vision layer's.
FORBIDDEN = {
    ("api", "store"): "api/ speaks service types, not store/ records",
    ("api", "vision"): "api/ speaks service types, not vision/ ones",
    ("video", "store"): "video/ speaks service types, not store/ records",
}

# Headers generated into build/generated that are on the include path: the
# module that may include them.
GENERATED = {"argus": ["cli"]}

# Crossings that exist today and are on their way out. Each entry is
# (including file, included header); the check passes them and says when one
# no longer occurs. Empty this list as they go.
ALLOWLIST = []

# CMake target -> module.
TARGETS = {"argus_api_validate": "api", "argus": "cli"}
TARGETS.update({"argus_" + m: m for m in GRAPH})

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
LINK = re.compile(r"target_link_libraries\s*\(\s*(\S+)([^)]*)\)", re.S)


def reachable(module):
    seen, todo = set(), list(GRAPH[module])
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += GRAPH[m]
    return seen


def rule(src, dst):
    """None when module src may depend on module dst, else the reason."""
    if src == dst:
        return None
    if (src, dst) in FORBIDDEN:
        return FORBIDDEN[(src, dst)]
    if dst in reachable(src):
        return None
    allowed = sorted(d for d in reachable(src) if (src, d) not in FORBIDDEN)
    return "%s/ may include only %s" % (src, ", ".join(m + "/" for m in allowed) or "itself")


def check_includes(root):
    crossings, used = [], set()
    for dirpath, _, files in sorted(os.walk(os.path.join(root, "src"))):
        for name in sorted(files):
            if not name.endswith((".h", ".cpp")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            module = rel.split(os.sep)[1]
            if module not in GRAPH:
                continue
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or "/" not in m.group(1):
                        continue
                    header = m.group(1)
                    dst = header.split("/")[0]
                    if dst in GENERATED:
                        why = None if module in GENERATED[dst] else (
                            "%s/ is generated for %s/ only" % (dst, ", ".join(GENERATED[dst])))
                    elif dst in GRAPH:
                        why = rule(module, dst)
                    else:
                        continue
                    if why is None:
                        continue
                    if (rel, header) in ALLOWLIST:
                        used.add((rel, header))
                        continue
                    crossings.append("%s:%d: includes \"%s\": %s (%s -> %s)"
                                     % (rel, n, header, why, module, dst))
    return crossings, used


def check_links(root):
    crossings = []
    for module in sorted(GRAPH):
        path = os.path.join(root, "src", module, "CMakeLists.txt")
        if not os.path.exists(path):
            continue
        text = open(path, encoding="utf-8").read()
        for m in LINK.finditer(text):
            src = TARGETS.get(m.group(1))
            if src is None:
                continue
            for dep in m.group(2).split():
                dst = TARGETS.get(dep)
                if dst is None or rule(src, dst) is None:
                    continue
                if dst in reachable(src):  # a forbidden include, linked for a transitive one
                    continue
                if (src, dst) in allowlisted_edges(root):  # linked for an allowlisted include
                    continue
                line = text.count("\n", 0, m.start()) + 1
                crossings.append("%s:%d: %s links %s: %s (%s -> %s)"
                                 % (os.path.relpath(path, root), line, m.group(1), dep,
                                    rule(src, dst), src, dst))
    return crossings


def allowlisted_edges(root):
    return sorted({(rel.split("/")[1], header.split("/")[0]) for rel, header in ALLOWLIST
                   if os.path.exists(os.path.join(root, rel))})


def picture(root):
    """The module graph as a Mermaid flowchart plus a plain table."""
    out = ["```mermaid", "flowchart TD"]
    for m in GRAPH:
        deps = GRAPH[m]
        if deps:
            out.append("  %s --> %s" % (m, " & ".join(deps)))
    out.append('  server -. "RequestGate implements api::Gate" .-> api')
    for src, dst in allowlisted_edges(root):
        out.append('  %s -. "allowlisted, going" .-> %s' % (src, dst))
    out.append("```")
    out.append("")
    out.append("| module | may include (besides itself) |")
    out.append("|---|---|")
    for m in GRAPH:
        allowed = [d for d in sorted(reachable(m)) if rule(m, d) is None]
        allowed += [g for g, users in GENERATED.items() if m in users]
        out.append("| %s/ | %s |" % (m, ", ".join(d + "/" for d in allowed) or "nothing"))
    return "\n".join(out) + "\n"


BEGIN = "<!-- module graph: generated by tools/check_layers.py --write-docs -->\n"
END = "<!-- end of module graph -->\n"


def docs_block(path):
    text = open(path, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        return text, None
    a = text.index(BEGIN) + len(BEGIN)
    return text, (a, text.index(END, a))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p.add_argument("--graph", action="store_true", help="print the module graph and exit")
    p.add_argument("--docs", help="check the module graph in this Markdown file")
    p.add_argument("--write-docs", help="rewrite the module graph in this Markdown file")
    a = p.parse_args()
    if a.graph:
        sys.stdout.write(picture(a.root))
        return 0
    if a.write_docs:
        text, span = docs_block(a.write_docs)
        if span is None:
            print("%s: no %s marker" % (a.write_docs, BEGIN.strip()), file=sys.stderr)
            return 1
        with open(a.write_docs, "w", encoding="utf-8") as f:
            f.write(text[:span[0]] + picture(a.root) + text[span[1]:])
        return 0

    crossings, used = check_includes(a.root)
    crossings += check_links(a.root)
    for c in crossings:
        print(c)
    for rel, header in ALLOWLIST:
        if (rel, header) not in used:
            print("note: allowlisted %s -> \"%s\" no longer occurs; remove it from "
                  "tools/check_layers.py's ALLOWLIST" % (rel, header))
    failed = bool(crossings)
    if a.docs:
        _, span = docs_block(a.docs)
        text = open(a.docs, encoding="utf-8").read()
        if span is None or text[span[0]:span[1]] != picture(a.root):
            print("%s: the module graph differs from tools/check_layers.py's table; run "
                  "tools/check_layers.py --write-docs %s" % (a.docs, a.docs))
            failed = True
    print("layers: %d crossing(s), %d allowlisted" % (len(crossings), len(used)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
