"""The Textual-free core of r2d-tui.

Everything that knows about repositories, repo2docker, checks and BuildKit lives here, so
the CLI, the TUI and the tests drive the same code. Nothing in this package may import
``textual`` or ``rich`` (``tests/test_import_hygiene.py`` enforces it).
"""
