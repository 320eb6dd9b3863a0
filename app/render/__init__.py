"""Output formats: streamed text for a terminal or a log, Markdown for a PR, SARIF for code scanning."""
