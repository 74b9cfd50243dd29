"""Dates and numbers inside request bodies and commands: bounded once, refused naming the field.

Year 1 is ``datetime.min`` to asyncpg, year 9999 west of UTC is year 10000 once in
UTC (stored by PostgreSQL, unreadable by Python), and either overflows whoever adds
a duration. Every date-time a client names, over HTTP or straight over NATS, is
refused outside 2000-01-01 to 2100-01-01 UTC; one without an offset means UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import nats
import pytest
from phoenix_contracts.base import Accepted, Rejected
from phoenix_contracts.identity import ApiKeyView, CreateApiKey
from phoenix_contracts.maintenance import MAINTENANCE, CreateMaintenanceWindow, MaintenanceSpec
from phoenix_contracts.notifications import ALERT_RULE, AlertRuleSpec, CreateAlertRule
from phoenix_contracts.subjects import Subjects

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in
from tests.infra import Servers
from tests.security.test_hostile_inputs import MONITOR_BODY, client_of, refused_naming

pytestmark = pytest.mark.e2e

BEYOND = (
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: no datetime holds it
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
    "0001-01-01T00:00:00Z",
    "2100-01-02T00:00:00Z",
)


def test_an_api_key_expiring_beyond_the_bounds_is_refused_naming_the_field(
    stack: RunningStack,
) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    for moment in BEYOND:
        created = client.post(
            "/api/v1/api-keys", json={"name": "k", "expires_at": moment}, headers=auth
        )
        assert refused_naming(created, "expires_at"), f"{moment}: {created.text}"
    naive = client.post(
        "/api/v1/api-keys", json={"name": "k", "expires_at": "2030-01-01T00:00:00"}, headers=auth
    )
    assert naive.status_code == 201, naive.text
    assert datetime.fromisoformat(naive.json()["expires_at"]) == datetime(2030, 1, 1, tzinfo=UTC)
    listed = client.get("/api/v1/api-keys", headers=auth)
    assert listed.status_code == 200, listed.text


def test_a_maintenance_window_beyond_the_bounds_is_refused_naming_the_field(
    stack: RunningStack,
) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    for field in ("start_at", "end_at"):
        for moment in BEYOND:
            window = {
                "title": "w",
                "strategy": "single",
                "start_at": "2030-01-01T00:00:00Z",
                "end_at": "2030-01-02T00:00:00Z",
                field: moment,
            }
            created = client.post("/api/v1/maintenance-windows", json=window, headers=auth)
            assert refused_naming(created, field), f"{field}={moment}: {created.text}"
    assert client.get("/api/v1/maintenance-windows", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("resolver", "accepted"),
    [
        ("[2620:fe::fe]:853", True),  # the form the dns check documents
        ("1.1.1.1:99999", False),
        ("[2620:fe::fe]:65536", False),
        ("1.1.1.1:0", False),
    ],
)
def test_a_dns_resolver_is_read_once_with_its_port(
    stack: RunningStack, resolver: str, accepted: bool
) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    body = {**MONITOR_BODY, "type": "dns", "hostname": "example.com", "dns_resolver": resolver}
    created = client.post("/api/v1/monitors", json=body, headers=auth)
    if accepted:
        assert created.status_code == 201, created.text
        assert created.json()["dns_resolver"] == resolver
    else:
        assert refused_naming(created, "dns_resolver"), created.text


async def test_dates_and_numbers_sent_straight_over_nats_are_refused_naming_the_field(
    servers: Servers, module_namespace: tuple[str, str], stack: RunningStack
) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    me = client.get("/api/v1/account/me", headers=auth).json()
    subjects = Subjects(module_namespace[0])
    far_west = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))
    nc = await nats.connect(servers.nats_url)
    try:
        spec = MaintenanceSpec(
            title="w", strategy="single", start_at=datetime(1, 1, 1, tzinfo=UTC), end_at=far_west
        )
        create = CreateMaintenanceWindow(organization_id=str(uuid.uuid4()), spec=spec)
        reply = await nc.request(
            subjects.command(MAINTENANCE, create.verb), msgspec.json.encode(create), timeout=10
        )
        window = msgspec.json.decode(reply.data, type=Accepted | Rejected)
        assert isinstance(window, Rejected), window
        assert (window.code, window.field) == ("invalid", "start_at")
        key = CreateApiKey(
            user_id=me["user"]["id"],
            organization_id=me["organization_id"],
            name="k",
            scopes=["read"],
            expires_at=far_west,
        )
        reply = await nc.request(subjects.auth(key.verb), msgspec.json.encode(key), timeout=10)
        answer = msgspec.json.decode(reply.data, type=ApiKeyView | Rejected)
        assert isinstance(answer, Rejected), answer
        assert (answer.code, answer.field) == ("invalid", "expires_at")
        # A number the notifier would add to a moment and store in an int4 column.
        channel = {"name": "c", "type": "webhook", "config": {"url": "http://127.0.0.1:9/h"}}
        made = client.post("/api/v1/notification-channels", json=channel, headers=auth).json()
        rule = CreateAlertRule(
            organization_id=me["organization_id"],
            spec=AlertRuleSpec(
                name="r",
                event="down",
                notification_channel_ids=[made["id"]],
                resend_interval_seconds=10**12,
            ),
        )
        reply = await nc.request(
            subjects.command(ALERT_RULE, rule.verb), msgspec.json.encode(rule), timeout=10
        )
        refused = msgspec.json.decode(reply.data, type=Accepted | Rejected)
        assert isinstance(refused, Rejected), refused
        assert (refused.code, refused.field) == ("invalid", "resend_interval_seconds")
    finally:
        await nc.close()
