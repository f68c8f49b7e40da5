"""Entry point for `python -m ganlab`."""

from ganlab.cli import main

raise SystemExit(main())
