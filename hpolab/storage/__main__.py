"""``python -m hpolab.storage repair PATH``: repair a journal file with torn lines inside."""

from __future__ import annotations

import sys

from hpolab.storage._journal import repair_journal
from hpolab.storage._storage import StorageError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "repair":
        sys.stderr.write("usage: python -m hpolab.storage repair JOURNAL_FILE\n")
        return 2
    try:
        dropped = repair_journal(args[1])
    except StorageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if dropped:
        sys.stdout.write(f"{args[1]}: removed line(s) {', '.join(map(str, dropped))} (the original: {args[1]}.bak)\n")
    else:
        sys.stdout.write(f"{args[1]}: every line is a complete record; nothing to repair\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
