"""Incident triage: two modes, business context, reference checks and judges."""
