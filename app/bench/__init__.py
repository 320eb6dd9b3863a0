"""Measuring a provider: the latency bench (N identical requests and how they spread)."""
