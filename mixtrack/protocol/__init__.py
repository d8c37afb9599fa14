"""Facts about Mixpanel's protocol, in one pure layer: no I/O, no threads, no frameworks.

Routes, limits, message rules, identity events and exposure names live in the modules of
this package. The SDK, the collector, the audit and the importer import them, and not each
other. Import from the submodules (``mixtrack.protocol.<module>``).
"""
