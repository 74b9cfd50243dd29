"""Subject and stream names, derived from one namespace.

Every deployment (and every test session) picks a namespace, default ``phx``.
All subjects start with it and every stream, consumer and bucket name is
prefixed with it, so two stacks can share one NATS server without seeing each
other.
"""

from __future__ import annotations

import zlib

import msgspec

# Results are spread over this many subjects by monitor, so evaluator replicas
# can each judge a share of the monitors, every monitor's results in order by
# one replica. Changing it moves monitors between partitions: keep it fixed.
RESULT_PARTITIONS = 16


def result_partition(monitor_id: str) -> int:
    return zlib.crc32(monitor_id.encode()) % RESULT_PARTITIONS


class Subjects(msgspec.Struct, frozen=True):
    namespace: str = "phx"

    # --- event log -------------------------------------------------------
    def event(self, aggregate: str, aggregate_id: str) -> str:
        """One subject per aggregate instance: enables per-instance optimistic concurrency."""
        return f"{self.namespace}.evt.{aggregate}.{aggregate_id}"

    def events_of(self, aggregate: str) -> str:
        return f"{self.namespace}.evt.{aggregate}.*"

    @property
    def all_events(self) -> str:
        return f"{self.namespace}.evt.>"

    # --- commands and requests (core NATS request/reply, not stored) ------
    def command(self, aggregate: str, verb: str) -> str:
        return f"{self.namespace}.cmd.{aggregate}.{verb}"

    @property
    def all_commands(self) -> str:
        return f"{self.namespace}.cmd.>"

    def auth(self, verb: str) -> str:
        return f"{self.namespace}.auth.{verb}"

    # --- work and results ------------------------------------------------
    def check_job(self, region: str) -> str:
        return f"{self.namespace}.job.check.{region}"

    @property
    def all_check_jobs(self) -> str:
        return f"{self.namespace}.job.check.>"

    def result(self, monitor_id: str) -> str:
        return f"{self.namespace}.res.{result_partition(monitor_id)}.{monitor_id}"

    def results_in(self, partition: int) -> str:
        return f"{self.namespace}.res.{partition}.*"

    @property
    def all_results(self) -> str:
        return f"{self.namespace}.res.>"

    def hint(self, monitor_id: str) -> str:
        """Results the scheduler acts on (a failed check, a heartbeat), copied here
        after they are stored; core NATS, not stored. The scheduler reads only these
        instead of every result."""
        return f"{self.namespace}.hint.{monitor_id}"

    @property
    def all_hints(self) -> str:
        return f"{self.namespace}.hint.*"

    def notify_job(self, channel_type: str) -> str:
        return f"{self.namespace}.job.notify.{channel_type}"

    @property
    def all_notify_jobs(self) -> str:
        return f"{self.namespace}.job.notify.>"

    def dead_letter(self, stream: str) -> str:
        return f"{self.namespace}.dlq.{stream}"

    @property
    def all_dead_letters(self) -> str:
        return f"{self.namespace}.dlq.>"

    # --- streams ---------------------------------------------------------
    def stream(self, name: str) -> str:
        """Stream names may not contain dots; the namespace is upper-cased into a prefix."""
        return f"{self.namespace.upper().replace('.', '_').replace('-', '_')}_{name}"

    def consumer(self, name: str) -> str:
        return f"{self.namespace.replace('.', '_')}-{name}"


EVENT_TYPE_HEADER = "Phx-Event-Type"
CORRELATION_HEADER = "Phx-Correlation-Id"
