"""r2d-tui: author and test Binder (repo2docker) environments on your own machine.

The package is split so the command line and scripts never pay for the terminal UI:
``r2d_tui.core`` is pure Python with no Textual or Rich import, ``r2d_tui.cli`` is the
headless front end, and ``r2d_tui.app`` is the Textual front end over the same core.
"""

__version__ = "0.1.0"
