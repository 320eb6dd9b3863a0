"""Colours shared by the text output and the TUI; imports nothing, so the TUI's first
frame does not wait for the review model."""

SEVERITY_STYLE = {"critical": "bold white on red", "high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
