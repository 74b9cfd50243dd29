"""Publishing a check result: the executor's and the push endpoint's one way."""

from __future__ import annotations

from nats.aio.client import Client
from nats.js import JetStreamContext
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.subjects import Subjects

from phoenix_platform.messaging.codec import encode


async def publish_result(
    js: JetStreamContext, nc: Client, subjects: Subjects, result: CheckCompleted, *, hint: bool
) -> None:
    """Store ``result`` on its partition's subject, deduplicated by its job id (a
    redelivered job stores it once). With ``hint``, copy it to the scheduler's hint
    subject too, only after it is stored: the scheduler acts on it (an early re-check,
    a heartbeat), and whatever that brings must find the result already in the log."""
    data = encode(result)
    await js.publish(
        subjects.result(result.monitor_id), data, headers={"Nats-Msg-Id": result.job_id}
    )
    if hint:
        await nc.publish(subjects.hint(result.monitor_id), data)
