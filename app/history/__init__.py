"""History: the SQLite store of every run and call, and the recorder that writes a run's
calls as they happen."""
