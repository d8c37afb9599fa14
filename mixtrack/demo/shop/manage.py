#!/usr/bin/env python
"""``python mixtrack/demo/shop/manage.py <command>`` (migrate, runserver, mixtrack_check)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(
        0, str(Path(__file__).resolve().parents[3])
    )  # the repository root, for a checkout
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mixtrack.demo.shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
