"""Prometheus metrics of every service, in one place so names never drift.

Each service process exposes them on ``GET /metrics`` of its health port (the
gateway's too: never on its public API port). A metric is
defined here once and only the service that owns it moves it; the others
simply report zero samples for it. The Grafana dashboard in
``infra/grafana`` and the alerting examples use exactly these names.

Counters only ever grow; rates come from PromQL (``rate(...[1m])``).
Latency histograms share buckets tuned for monitoring: checks take
milliseconds to seconds, lateness should stay far below a second.
"""

from __future__ import annotations

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE", "render"]

# The classic text format, which every Prometheus version (and the client's
# output without UTF-8 names) speaks.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: 1 ms … 30 s, dense where a healthy check lands.
_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Seconds late: the target is p99 < 250 ms, max < 1 s.
_LATENESS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0)

BUILD_INFO = Gauge(
    "phoenix_build_info", "Always 1; labels name the service and version.", ["service", "version"]
)

# --- executor ---------------------------------------------------------------
CHECKS = Counter(
    "phoenix_checks",
    "Checks run, by monitor type and outcome (up, down).",
    ["type", "outcome"],
)
CHECK_DURATION = Histogram(
    "phoenix_check_duration_seconds",
    "Time a check took, from its start to its verdict.",
    ["type"],
    buckets=_LATENCY,
)
CHECK_START_LATENESS = Histogram(
    "phoenix_check_start_lateness_seconds",
    "How long after its due time a check started (executor start - due).",
    buckets=_LATENESS,
)
CHECKS_IN_FLIGHT = Gauge("phoenix_checks_in_flight", "Checks running right now.")

# --- scheduler --------------------------------------------------------------
SCHEDULER_JOBS = Counter("phoenix_scheduler_jobs", "Check jobs published by the scheduler.")
SCHEDULER_JOBS_REFUSED = Counter(
    "phoenix_scheduler_jobs_refused",
    "Check jobs the scheduler did not publish: larger than PHOENIX_MAX_MESSAGE_KB.",
)
SCHEDULER_LATENESS = Histogram(
    "phoenix_scheduler_lateness_seconds",
    "How long after its due time the scheduler published a job (publish - due).",
    buckets=_LATENESS,
)
SCHEDULER_LEADER = Gauge(
    "phoenix_scheduler_leader", "1 while this replica holds the scheduling lease."
)
SCHEDULER_MONITORS = Gauge("phoenix_scheduler_monitors", "Monitors on the schedule.")

# --- evaluator --------------------------------------------------------------
RESULTS_JUDGED = Counter("phoenix_results_judged", "Check results judged by the evaluator.")
STATUS_CHANGES = Counter(
    "phoenix_status_changes", "Monitor status changes decided, by new status.", ["status"]
)
RESULT_TO_STATUS = Histogram(
    "phoenix_result_to_status_seconds",
    "From a check's verdict to its status change being stored.",
    buckets=_LATENCY,
)
EVALUATOR_PARTITIONS = Gauge(
    "phoenix_evaluator_partitions_owned", "Result partitions this evaluator replica judges."
)

# --- notifier ---------------------------------------------------------------
DELIVERIES = Counter(
    "phoenix_deliveries",
    "Delivery attempts by channel type and outcome (sent, failed, retried, skipped).",
    ["channel", "outcome"],
)
DELIVERY_DURATION = Histogram(
    "phoenix_delivery_duration_seconds",
    "Time one send to a channel took.",
    ["channel"],
    buckets=_LATENCY,
)

# --- auth -------------------------------------------------------------------
PASSWORD_CHECKS = Counter(
    "phoenix_password_checks",
    "Passwords verified against a stored hash (logins and current-password checks), by outcome.",
    ["outcome"],
)

# --- gateway ----------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "phoenix_http_requests",
    "API requests by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "phoenix_http_request_duration_seconds",
    "API request latency by method and route template.",
    ["method", "route"],
    buckets=_LATENCY,
)

# --- every service ------------------------------------------------------------
ERRORS = Counter(
    "phoenix_errors",
    "Lines logged at error level, by service and event name.",
    ["service", "event"],
)
MESSAGES_RETRIED = Counter(
    "phoenix_messages_retried",
    "Messages handed back for a later delivery after a handler error, by stream.",
    ["stream"],
)
MESSAGES_DEAD_LETTERED = Counter(
    "phoenix_messages_dead_lettered", "Messages parked on the dead-letter stream.", ["stream"]
)

_FOLLOWER = (
    ("phoenix_follower_lag_events", "lag", "events in the log not yet applied"),
    ("phoenix_follower_applied_sequence", "applied", "last event sequence applied"),
    ("phoenix_follower_newest_sequence", "newest", "newest event sequence in the log"),
    (
        "phoenix_follower_stalled_seconds",
        "stalled_seconds",
        "seconds with events to apply and none applied (0 when moving)",
    ),
)


def render(service: str, details: dict[str, dict[str, int]]) -> bytes:
    """Every metric of this process, plus the followers' positions, as Prometheus text."""
    return generate_latest(REGISTRY) + follower_text(service, details).encode()


def follower_text(service: str, details: dict[str, dict[str, int]]) -> str:
    """Each follower's position in the log (``phoenix_follower_*``), as gauges.

    Computed at scrape time from the followers themselves, so they are never stale.
    """
    lines = []
    for metric, key, meaning in _FOLLOWER:
        lines += [f"# HELP {metric} {meaning}", f"# TYPE {metric} gauge"]
        for follower, values in sorted(details.items()):
            if key in values:
                labels = f'service="{service}",follower="{follower}"'
                lines.append(f"{metric}{{{labels}}} {values[key]}")
    return "\n".join(lines) + "\n"
