"""The review task: the result model, the prompt, validation of cited lines, answer keys,
the plan (what one provider is sent) and the run.

Light on purpose: the command line reads its defaults from here while building `--help`."""

#: A file that needs more requests than this is refused unless --max-requests says so.
DEFAULT_MAX_REQUESTS = 25
