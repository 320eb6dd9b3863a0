"""What is reviewed or triaged: reading the user's text (inputs), the parsed source file
with its symbols and chunks (model), the scans for secrets and prompt injection, and
writing a file atomically."""
