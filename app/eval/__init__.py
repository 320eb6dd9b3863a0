"""`driftcheck eval`: every model on every input, graded, and a report that supports a
routing decision. items (what is evaluated), plan (the cells and their cost), limits
(per-provider concurrency and the budget), runner (the cells, resumably), tasks (one
answer and its grades), stats (could this gap be noise?), report (the tables and the
recommendation), routes (the config the recommendation implies)."""
