"""The run builder: everything between a request (a command line, a TUI form, an eval
plan) and the first byte sent, written once for every front end.

providers (which provider answers, with its fallback and hedging), review and triage
(reading and checking the input, the secret policy, the plan, the history recorder, and
the task's event streams ready to start), compare (the two sides, a stored baseline),
eval (the items and what each model is sent), prepared (a run ready to start, and how
its end is recorded), provider_status (what `driftcheck providers` reports).
"""
