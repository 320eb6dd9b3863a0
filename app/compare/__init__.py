"""One task on two providers at once: the interleaved events of both sides, the drift
between their results, the noise within each side, and the report that holds them."""
