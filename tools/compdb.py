#!/usr/bin/env python3
"""compdb.py CC FLAGS... - print compile_commands.json for every C file of the
lab, so that clangd and other editors resolve includes the way make does."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# gcc flags clang-based tools (clangd, clang-tidy) do not know.
GCC_ONLY = {"-fno-tree-loop-distribute-patterns"}


def main():
    compiler_and_flags = sys.argv[1:]
    entries = []
    for folder in ("common", "lessons", "solutions"):
        for source in sorted((ROOT / folder).rglob("*.c")):
            entries.append({
                "directory": str(ROOT),
                "file": str(source),
                # What make gives common/main.c per kernel: a lesson's name and its inits.
                "arguments": [a for a in compiler_and_flags if a not in GCC_ONLY] + [
                    "-DLESSON_NAME=\"editor\"", "-DLESSON_INITS(CALL)=", "-c", str(source)],
            })
    json.dump(entries, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
