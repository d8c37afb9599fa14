"""The delivery pipeline, one module per stage, in the order a message passes them.

At the call site (``track()`` and the other calls of :mod:`mixtrack._api`):

- :mod:`~mixtrack._delivery.epoch` and :mod:`~mixtrack._delivery.messages`: a message is
  built and checked (times, ids, properties), then the message processors run on it;
- :mod:`~mixtrack._delivery.records`: it is serialized once, to the record (bytes) that is
  queued, spooled and sent; the same module encodes a request and reads the answer.

Behind the call site:

- :mod:`~mixtrack._delivery.lanes` and :mod:`~mixtrack._delivery.queue`: the record waits in
  its endpoint's lane of the bounded queue until a batch is taken, kept meanwhile by the
  queue's :mod:`~mixtrack._delivery.backlog` (in memory, or on disk in the
  :mod:`~mixtrack._delivery.spool`) until it settles;
- :mod:`~mixtrack._delivery.sender`: a batch is sent, split, retried or given up on, as a
  state machine without I/O; :mod:`~mixtrack._delivery.circuit` says when to try again
  (Mixpanel's backoff; one circuit per client admits the probes while the collector is down,
  and the flush or shutdown deadline, passed in next to it, cuts the waits);
- :mod:`~mixtrack._delivery.outcomes`: what the sender decided is booked (counters, log
  lines, ``on_drop``);
- :mod:`~mixtrack._delivery.threads` and :mod:`~mixtrack._delivery.loop`: the two drivers
  that run senders over a transport (delivery threads, or a task on an asyncio loop);
- :mod:`~mixtrack._delivery.stats` and :mod:`~mixtrack._delivery.results`: what the books
  say (``stats()``, and the :class:`~mixtrack.FlushResult` of ``flush()``/``shutdown()``).
"""
