"""Checks: pure functions from a view of an environment to typed findings."""
