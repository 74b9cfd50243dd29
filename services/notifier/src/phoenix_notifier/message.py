"""What a notification says, before any channel shapes it (pure).

Every channel gets the same :class:`Notice`: the facts, a one-line ``title``
and a short ``text``. Defaults are written here per event; a channel may carry
its own ``title_template`` / ``text_template`` made of ``{{placeholder}}``
and plain text only. Templates cannot reach attributes, include files or run
code: a placeholder is looked up in a fixed table, anything else is refused
when the channel is saved.
"""

from __future__ import annotations

import re
from datetime import datetime

import msgspec
from phoenix_contracts.channels import PLACEHOLDER
from phoenix_contracts.notifications import NotificationJob

# Anything that could break a header or a one-line field apart.
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")

EMOJI = {
    "down": "🔴",
    "recovered": "🟢",
    "degraded": "🟡",
    "certificate_expiring": "🔐",
    "flapping": "🟠",
    "test": "🧪",
}


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    event: str  # down | recovered | degraded | certificate_expiring | flapping | test
    title: str  # one line, no line breaks: safe for subjects and headers
    text: str
    monitor_id: str
    monitor_name: str
    monitor_url: str
    status: str
    previous_status: str
    reason: str
    occurred_at: datetime
    incident_id: str
    delivery_id: str  # the idempotency key: receivers may deduplicate on it
    alert_rule_id: str
    resend: int = 0

    @property
    def dedup_key(self) -> str:
        """One per monitor: pagers group a down and its recovery under it."""
        return f"phoenix-{self.monitor_id}" if self.monitor_id else f"phoenix-{self.delivery_id}"

    @property
    def emoji(self) -> str:
        return EMOJI.get(self.event, "")


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def one_line(value: str, limit: int = 250) -> str:
    """No CR, LF or control characters survive: a monitor named "x\\r\\nBcc: y" stays one line."""
    return clip(LINE_BREAKS.sub(" ", value).strip(), limit)


def fill(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def default_title(job: NotificationJob) -> str:
    name = job.monitor.name
    match job.event:
        case "down":
            head = f"{name} is down"
        case "recovered":
            head = f"{name} is back up"
        case "degraded":
            head = f"{name} is degraded"
        case "certificate_expiring":
            head = f"{name}: certificate expiring"
        case "flapping":
            head = f"{name} is flapping"
        case _:
            head = "Phoenix test message"
    return f"{head} (reminder {job.resend})" if job.resend else head


def default_text(job: NotificationJob) -> str:
    if job.event == "test":
        return "This is a test message from Phoenix: the channel works."
    lines = [job.reason or job.status]
    if job.monitor.url:
        lines.append(job.monitor.url)
    lines.append(f"{job.occurred_at:%Y-%m-%d %H:%M:%S} UTC")
    return "\n".join(lines)


def notice_of(job: NotificationJob, title_template: str = "", text_template: str = "") -> Notice:
    values = {
        "event": job.event,
        "status": job.status,
        "previous_status": job.previous_status,
        "reason": job.reason,
        "monitor.name": job.monitor.name,
        "monitor.url": job.monitor.url,
        "monitor.id": job.monitor.id,
        "occurred_at": job.occurred_at.isoformat(),
        "incident_id": job.incident_id,
    }
    title = fill(title_template, values) if title_template else default_title(job)
    text = fill(text_template, values) if text_template else default_text(job)
    return Notice(
        event=job.event,
        title=one_line(title),
        text=text[:4000],
        monitor_id=job.monitor.id,
        monitor_name=one_line(job.monitor.name),
        monitor_url=job.monitor.url,
        status=job.status,
        previous_status=job.previous_status,
        reason=job.reason,
        occurred_at=job.occurred_at,
        incident_id=job.incident_id,
        delivery_id=job.key,
        alert_rule_id=job.alert_rule_id,
        resend=job.resend,
    )
