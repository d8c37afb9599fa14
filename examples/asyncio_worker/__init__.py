"""An asyncio job consumer that tracks what it does with ``mixtrack.AsyncClient``."""
