"""``mixtrack demo``: the local collector, an example shop and simulated visitors, end to end.

From a checkout: ``make demo`` (or ``mixtrack demo --no-wait`` to exit after printing).
"""

from mixtrack.demo._run import find_checkout, run_demo

__all__ = ["find_checkout", "run_demo"]
