"""The settings of :mod:`mixtrack.demo.shop`, under their old name."""

from mixtrack.demo.shop.settings import *  # noqa: F403
