"""Incident triage: two modes, business context, reference checks and judges.

Light on purpose: the command line reads its defaults from here while building `--help`."""

#: The output token limit of a triage answer unless --max-tokens says otherwise.
DEFAULT_MAX_TOKENS = 4096
