"""Group commit for the front door on PostgreSQL: deliveries arriving together are stored together.

Each web thread hands its delivery to the process's writer thread and waits; the writer stores
whatever arrived while it wrote the previous group in one transaction (one multi-row ``INSERT ... ON
CONFLICT DO NOTHING``), enqueues the new ones, and only then releases the waiting threads, so a 2xx
still means the body is committed. Under load this turns one commit and several round trips per
request into one per group; an idle process writes a group of one with no added wait.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import postgresql

from addon.models.inbox import Delivery

log = logging.getLogger(__name__)

MAX_GROUP = 200
WAIT_SECONDS = 30.0


@dataclass
class _Pending:
    values: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    new: bool = False
    error: BaseException | None = None


class DeliveryWriter:
    """One writer thread per process (started on first use, again after a fork)."""

    def __init__(self, container: Any, enqueue):
        self.container = container
        self.enqueue = enqueue  # enqueue(container, delivery_ids), called once per group after the commit
        self._lock = threading.Lock()
        self._pid = None
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()

    def store(self, values: dict[str, Any]) -> bool:
        """Commit one delivery (with those arriving beside it); True when it is new."""
        self._ensure_thread()
        pending = _Pending(dict(values))
        self._queue.put(pending)
        if not pending.done.wait(WAIT_SECONDS):
            raise TimeoutError("the delivery writer did not answer in time")
        if pending.error is not None:
            raise pending.error
        return pending.new

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, name="autobill-delivery-writer", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(group)
            except BaseException as exc:  # noqa: BLE001 - every waiting request learns it was not stored
                for pending in group:
                    pending.error = exc
            finally:
                for pending in group:
                    pending.done.set()

    def _write(self, group: list[_Pending]) -> None:
        table = Delivery.__table__
        statement = (postgresql.insert(table).on_conflict_do_nothing(index_elements=["endpoint_id", "dedupe_key"])
                     .returning(table.c.id))
        with self.container.database.engine.begin() as connection:
            inserted = set(connection.execute(statement, [p.values for p in group]).scalars())
        for pending in group:
            pending.new = pending.values["id"] in inserted
        new_ids = [p.values["id"] for p in group if p.new]
        if new_ids:
            try:
                self.enqueue(self.container, new_ids)
            except Exception:  # noqa: BLE001 - stored is what counts; the sweeper enqueues them after the grace
                log.exception("could not enqueue %d deliveries; the sweeper will", len(new_ids))

