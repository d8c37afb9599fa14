"""Importing a CSV export of historical orders with ``mixtrack import``."""
