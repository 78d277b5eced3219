"""``python -m r2d_tui`` is the same as the ``r2d-tui`` console script."""

from r2d_tui.cli import main

raise SystemExit(main())
