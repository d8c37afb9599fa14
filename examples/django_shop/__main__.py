"""``python -m examples.django_shop``: the same as ``python -m mixtrack.demo.shop``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mixtrack.demo.shop.settings")

from mixtrack.demo.shop.__main__ import main

if __name__ == "__main__":
    main()
