"""The `tiersheet` program's entry point: Ctrl-C while the libraries are still loading (pandas
takes a moment) ends quietly with exit 130, like Ctrl-C anywhere else, not with a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted: nothing was written.\n")
        raise SystemExit(130) from None
    cli()
