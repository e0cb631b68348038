"""Checks: pure functions from what is installed (or planned) to typed findings."""
