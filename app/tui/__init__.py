"""The Textual interface. Only this package imports Textual; `app` and `providers` never do."""
