"""Plain-file hygiene: trailing whitespace, final newline, merge markers, debuggers."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

CHECKED_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".txt", ".html", ".css", ""}
DEBUG_CALL = re.compile(r"^\s*(breakpoint\(\)|import pdb|pdb\.set_trace\(\))")
MERGE_MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)")


def main() -> int:
    """Check every tracked text file and print one line per problem."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    problems = []
    for name in listed:
        path = pathlib.Path(name)
        if path.suffix not in CHECKED_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if text and not text.endswith("\n"):
            problems.append(f"{name}: no newline at end of file")
        for number, line in enumerate(text.splitlines(), 1):
            if line != line.rstrip():
                problems.append(f"{name}:{number}: trailing whitespace")
            if MERGE_MARKER.match(line):
                problems.append(f"{name}:{number}: merge conflict marker")
            if path.suffix == ".py" and DEBUG_CALL.match(line):
                problems.append(f"{name}:{number}: debugger statement")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
