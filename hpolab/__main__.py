"""``python -m hpolab`` runs the ``hpolab`` command."""

from __future__ import annotations

from hpolab.cli import main

if __name__ == "__main__":
    main()
