"""Benchmarks of mixtrack against mixpanel-python, Segment and PostHog: ``python -m bench``."""
