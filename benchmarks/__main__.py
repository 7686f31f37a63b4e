"""Run the benchmarks: ``python -m benchmarks [SUBCOMMAND] [options]``.

Subcommands:

- (none) or ``inprocess``: the in-process WSGI/ASGI suite
  (``--quick``, ``--only erlen-wsgi,flask``, ``--endpoints hello,json``);
- ``e2e``: real servers on 127.0.0.1 loaded with wrk (``--quick``);
- ``startup``: import time, app creation with 200 routes, peak RSS;
- ``routing``: the router benchmark (``benchmarks.bench_routing``), saved;
- ``instructions``: instructions per request counted by valgrind, in-process
  (``--only``, ``--endpoints``, ``-n``) or under a real server (``--live``);
- ``report``: regenerate docs/performance.md and its chart from the saved results.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args and not args[0].startswith("-") else "inprocess"
    rest = args[1:] if args and not args[0].startswith("-") else args
    if command == "inprocess":
        from benchmarks import inprocess

        return inprocess.main(rest)
    if command == "e2e":
        from benchmarks import e2e

        return e2e.main(rest)
    if command == "startup":
        from benchmarks import startup

        return startup.main(rest)
    if command == "routing":
        from benchmarks import routing

        return routing.main(rest)
    if command == "instructions":
        from benchmarks import instructions

        return instructions.main(rest)
    if command == "report":
        from benchmarks import report

        return report.main(rest)
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    print(f"unknown subcommand {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
