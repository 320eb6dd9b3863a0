"""driftcheck's domain: tasks, config, history and output. Never imports Textual (see app.tui)."""

__version__ = "0.1.0"
