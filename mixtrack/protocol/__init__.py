"""Facts about Mixpanel's protocol, in one pure layer: no I/O, no threads, no frameworks.

Routes, limits, message rules, identity events and exposure names live in the modules of
this package, and so does the one reader of Mixpanel's request format (``decode``, over
``json_values``), used by the collector, the in-memory transport and the test sinks. The
SDK, the collector, the audit and the importer import them, and not each other. Import from
the submodules (``mixtrack.protocol.<module>``).
"""
