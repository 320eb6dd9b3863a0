"""The review task: the result model, the prompt, validation of cited lines, and the run."""
