"""Bulk-loading historical events into Mixpanel (or a local collector) through ``/import``.

From the command line: ``mixtrack import history.ndjson --token T --api-secret S``; from
Python: :func:`import_file`. NDJSON rows may be Mixpanel events (``{"event", "properties"}``)
or flat objects; CSV rows are flat, mapped by :class:`ColumnMap`.

>>> from mixtrack.importer import import_file
>>> import_file("orders.csv", token="PROJECT_TOKEN", api_secret="SECRET")  # doctest: +SKIP
"""

from mixtrack.importer._rows import ColumnMap
from mixtrack.importer._run import ImportSummary, import_file

__all__ = ["ColumnMap", "ImportSummary", "import_file"]
