"""Screens of the TUI: the main editing screen and its modals (help, confirm)."""
