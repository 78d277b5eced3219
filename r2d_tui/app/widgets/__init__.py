"""Widgets of the TUI. Each displays state bound from the main screen and posts messages up."""
