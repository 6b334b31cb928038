"""Benchmarks that print figures (not part of the test run); see each module's docstring."""
