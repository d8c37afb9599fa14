"""The Django example shop now ships inside mixtrack as :mod:`mixtrack.demo.shop`.

``python -m examples.django_shop`` and ``DJANGO_SETTINGS_MODULE=examples.django_shop.settings``
keep working from a checkout; new code should use ``mixtrack.demo.shop``.
"""
