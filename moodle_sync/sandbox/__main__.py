"""`python -m moodle_sync.sandbox [--port N] [--scenario F] [--faults PLAN.json]`.

For a process that starts its own sandbox (the chaos runner): port 0 picks a free port, and the
first line on stderr, "Sandbox Moodle at http://...", says which.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moodle_sync.sandbox.server import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m moodle_sync.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="loopback port (0: any free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--scenario", type=Path, help="scenario JSON (default: CETAD cohort)")
    parser.add_argument("--faults", type=Path, help="fault plan JSON (see sandbox/faults.py)")
    args = parser.parse_args(argv)
    serve_forever(args.port, args.scenario, args.host, faults=args.faults)


if __name__ == "__main__":
    main()
