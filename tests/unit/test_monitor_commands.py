"""The monitor aggregate's decide/evolve (``phoenix_gateway.config.monitors``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.monitors import (
    CreateMonitor,
    DeleteMonitor,
    MonitorCommand,
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorSpec,
    MonitorUpdated,
    PauseMonitor,
    ResumeMonitor,
    UpdateMonitor,
)
from phoenix_gateway.config.monitors import Context, MonitorState, decide, evolve

NOW = datetime(2024, 1, 1, tzinfo=UTC)
ORG = "org-1"
OTHER_ORG = "org-2"
MONITOR = "monitor-1"


def spec(**changes: object) -> MonitorSpec:
    fields: dict[str, object] = {
        "name": "site",
        "type": "http",
        "url": "https://example.com/health",
        "interval": 60,
        "timeout": 10.0,
    }
    fields.update(changes)
    return MonitorSpec(**fields)  # type: ignore[arg-type]


def ctx(event_id: str = "event-1", min_interval: int = 30) -> Context:
    return Context(
        aggregate_id=MONITOR,
        event_id=event_id,
        now=NOW,
        min_interval=min_interval,
        known_regions=frozenset({"default", "eu", "us"}),
    )


def create(**changes: object) -> CreateMonitor:
    return CreateMonitor(organization_id=ORG, spec=spec(**changes))


def run(*commands: MonitorCommand) -> tuple[MonitorState, list[Event] | Rejected]:
    """Decide each command against the state folded so far; the last decision is returned."""
    state = MonitorState()
    decision: list[Event] | Rejected = []
    for index, command in enumerate(commands):
        decision = decide(state, command, ctx(f"event-{index + 1}"))
        if isinstance(decision, list):
            for event in decision:
                state = evolve(state, event)
    return state, decision


def rejected(decision: object) -> Rejected:
    assert isinstance(decision, Rejected), decision
    return decision


# --- create ---------------------------------------------------------------------------


def test_a_valid_create_produces_one_monitor_created_event() -> None:
    command = CreateMonitor(organization_id=ORG, spec=spec(), correlation_id="corr-1")
    decision = decide(MonitorState(), command, ctx())
    assert decision == [
        MonitorCreated(
            event_id="event-1",
            aggregate_id=MONITOR,
            aggregate_version=1,
            occurred_at=NOW,
            organization_id=ORG,
            correlation_id="corr-1",
            spec=spec(),
        )
    ]


INVALID = [
    ("interval-below-minimum", {"interval": 10, "timeout": 5.0}, "interval"),
    ("interval-zero", {"interval": 0, "timeout": 5.0}, "interval"),
    ("timeout-equal-to-interval", {"interval": 60, "timeout": 60.0}, "timeout"),
    ("timeout-longer-than-interval", {"interval": 60, "timeout": 90.0}, "timeout"),
    ("ftp-url", {"url": "ftp://example.com/file"}, "url"),
    ("file-url", {"url": "file:///etc/passwd"}, "url"),
    ("javascript-url", {"url": "javascript:alert(1)"}, "url"),
    ("no-scheme", {"url": "example.com"}, "url"),
    ("empty-url", {"url": ""}, "url"),
    ("no-host", {"url": "http://"}, "url"),
    ("user-and-password-in-url", {"url": "https://admin:hunter2@example.com/"}, "url"),
    ("user-only-in-url", {"url": "https://admin@example.com/"}, "url"),
    ("bad-port", {"url": "https://example.com:99999/"}, "url"),
    ("non-numeric-port", {"url": "https://example.com:http/"}, "url"),
    ("empty-host-label", {"url": "https://example..com/"}, "url"),
    ("overlong-host-label", {"url": f"https://{'a' * 64}.com/"}, "url"),
    ("keyword-monitor-url-checked-too", {"type": "keyword", "url": "gopher://x"}, "url"),
    ("json-monitor-url-checked-too", {"type": "json", "url": "ftp://x"}, "url"),
    ("status-below-100", {"accepted_status_codes": ["99"]}, "accepted_status_codes"),
    ("status-above-599", {"accepted_status_codes": ["600"]}, "accepted_status_codes"),
    ("status-zero", {"accepted_status_codes": ["0"]}, "accepted_status_codes"),
    ("inverted-range", {"accepted_status_codes": ["300-200"]}, "accepted_status_codes"),
    ("range-end-above-599", {"accepted_status_codes": ["200-600"]}, "accepted_status_codes"),
    ("one-bad-among-good", {"accepted_status_codes": ["200", "1000"]}, "accepted_status_codes"),
    ("failure-threshold-zero", {"failure_threshold": 0}, "failure_threshold"),
    # A URL is parsed fully here: a check never meets one it cannot read.
    ("unclosed-ipv6-bracket", {"url": "http://[::1/"}, "url"),
    ("invalid-ipv6-in-brackets", {"url": "http://[zz]/"}, "url"),
    ("port-zero", {"url": "https://example.com:0/"}, "url"),
    ("space-in-url", {"url": "https://exa mple.com/"}, "url"),
    ("newline-in-url", {"url": "https://example.com/\r\nX: y"}, "url"),
    ("tls-url-port-out-of-range", {"type": "tls", "url": "https://h:99999/"}, "url"),
    ("tls-url-unclosed-bracket", {"type": "tls", "url": "https://[::1/"}, "url"),
    ("tls-url-without-host", {"type": "tls", "url": "https:///x"}, "url"),
    ("dns-resolver-port-out-of-range", {"dns_resolver": "1.1.1.1:99999"}, "dns_resolver"),
    ("dns-resolver-v6-port-out-of-range", {"dns_resolver": "[::1]:65536"}, "dns_resolver"),
    ("dns-resolver-port-not-ascii", {"dns_resolver": "1.1.1.1:٥٣"}, "dns_resolver"),
    # Each region is a job per interval: only regions an executor serves, each once.
    ("unknown-region", {"regions": ["default", "mars"]}, "regions"),
    ("repeated-region", {"regions": ["default"] * 2000}, "regions"),
    ("no-region", {"regions": []}, "regions"),
    ("spec-over-the-job-budget", {"expected_values": ["v" * 512] * 300}, "expected_values"),
    (
        "headers-over-the-byte-budget",
        {"headers": {f"X-H{n}": "v" * 8000 for n in range(3)}},
        "headers",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field"), [row[1:] for row in INVALID], ids=[row[0] for row in INVALID]
)
def test_create_rejects_an_invalid_spec_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    rejection = rejected(decide(MonitorState(), create(**changes), ctx(min_interval=30)))
    assert (rejection.code, rejection.field) == ("invalid", field)
    assert rejection.message


def test_the_interval_rejection_states_the_minimum() -> None:
    rejection = rejected(decide(MonitorState(), create(interval=20), ctx(min_interval=45)))
    assert "45" in rejection.message


VALID = [
    ("interval-at-minimum", {"interval": 30, "timeout": 29.9}),
    ("plain-http", {"url": "http://example.com"}),
    ("ip-literal-host", {"url": "http://93.184.216.34:8080/x"}),
    ("ipv6-literal-host", {"url": "http://[2606:4700:4700::1111]/"}),
    ("status-range-bounds", {"accepted_status_codes": ["100-599"]}),
    ("several-status-codes", {"accepted_status_codes": ["200-299", "301", "404"]}),
    ("one-status-range", {"accepted_status_codes": ["200-200"]}),
    ("tls-by-url", {"type": "tls", "url": "https://example.com:8443/"}),
    ("at-sign-in-the-query", {"url": "https://example.com/?mail=a@b.c"}),
    ("tls-by-ipv6-url", {"type": "tls", "url": "https://[2606:4700::1111]/"}),
    ("headers-within-budget", {"headers": {"Authorization": "Bearer " + "x" * 8000}}),
    ("thresholds-of-one", {"failure_threshold": 1, "recovery_threshold": 1}),
    (
        "tcp-monitor-has-no-http-url",
        {"type": "tcp", "url": "", "hostname": "example.com", "port": 5432},
    ),
]


@pytest.mark.parametrize("changes", [row[1] for row in VALID], ids=[row[0] for row in VALID])
def test_create_accepts_a_valid_spec(changes: dict[str, object]) -> None:
    decision = decide(MonitorState(), create(**changes), ctx(min_interval=30))
    assert isinstance(decision, list)
    assert [type(event) for event in decision] == [MonitorCreated]


@pytest.mark.parametrize("code", ["2xx", "", "abc-def"])
def test_create_rejects_a_non_numeric_status_code_as_invalid(code: str) -> None:
    rejection = rejected(decide(MonitorState(), create(accepted_status_codes=[code]), ctx()))
    assert (rejection.code, rejection.field) == ("invalid", "accepted_status_codes")


def test_a_zero_recovery_threshold_is_rejected_naming_recovery_threshold() -> None:
    rejection = rejected(decide(MonitorState(), create(recovery_threshold=0), ctx()))
    assert (rejection.code, rejection.field) == ("invalid", "recovery_threshold")


def test_creating_an_existing_monitor_is_a_conflict() -> None:
    _, decision = run(create(), create())
    assert rejected(decision).code == "conflict"


# --- the lifecycle --------------------------------------------------------------------


def test_a_monitor_can_be_paused_resumed_updated_and_deleted_in_order() -> None:
    state = MonitorState()
    commands: list[MonitorCommand] = [
        create(),
        PauseMonitor(organization_id=ORG, monitor_id=MONITOR),
        ResumeMonitor(organization_id=ORG, monitor_id=MONITOR),
        UpdateMonitor(organization_id=ORG, monitor_id=MONITOR, spec=spec(interval=120)),
        DeleteMonitor(organization_id=ORG, monitor_id=MONITOR),
    ]
    produced: list[Event] = []
    for index, command in enumerate(commands):
        decision = decide(state, command, ctx(f"event-{index + 1}"))
        assert isinstance(decision, list)
        for event in decision:
            state = evolve(state, event)
        produced.extend(decision)
    assert [type(event) for event in produced] == [
        MonitorCreated,
        MonitorPaused,
        MonitorResumed,
        MonitorUpdated,
        MonitorDeleted,
    ]
    assert [event.aggregate_version for event in produced] == [1, 2, 3, 4, 5]
    assert {event.aggregate_id for event in produced} == {MONITOR}
    assert {event.organization_id for event in produced} == {ORG}
    assert state.deleted
    assert state.spec is not None
    assert state.spec.interval == 120


def test_pausing_twice_produces_no_second_event() -> None:
    state, _ = run(create(), PauseMonitor(organization_id=ORG, monitor_id=MONITOR))
    assert state.paused
    assert decide(state, PauseMonitor(organization_id=ORG, monitor_id=MONITOR), ctx()) == []


def test_resuming_a_monitor_that_is_not_paused_produces_no_event() -> None:
    _, decision = run(create(), ResumeMonitor(organization_id=ORG, monitor_id=MONITOR))
    assert decision == []


def test_resuming_a_paused_monitor_unpauses_it() -> None:
    state, decision = run(
        create(),
        PauseMonitor(organization_id=ORG, monitor_id=MONITOR),
        ResumeMonitor(organization_id=ORG, monitor_id=MONITOR),
    )
    assert [type(event) for event in decision] == [MonitorResumed]  # type: ignore[union-attr]
    assert not state.paused


def test_an_update_is_validated_like_a_create() -> None:
    _, decision = run(
        create(),
        UpdateMonitor(
            organization_id=ORG, monitor_id=MONITOR, spec=spec(url="https://u:p@example.com/")
        ),
    )
    assert rejected(decision).field == "url"


def test_an_update_replaces_the_spec() -> None:
    new = spec(name="renamed", interval=300, regions=["eu", "us"])
    state, decision = run(
        create(), UpdateMonitor(organization_id=ORG, monitor_id=MONITOR, spec=new)
    )
    assert isinstance(decision, list)
    assert isinstance(decision[0], MonitorUpdated)
    assert decision[0].spec == new
    assert state.spec == new


OTHERS: list[tuple[str, MonitorCommand]] = [
    ("update", UpdateMonitor(organization_id=OTHER_ORG, monitor_id=MONITOR, spec=spec())),
    ("pause", PauseMonitor(organization_id=OTHER_ORG, monitor_id=MONITOR)),
    ("resume", ResumeMonitor(organization_id=OTHER_ORG, monitor_id=MONITOR)),
    ("delete", DeleteMonitor(organization_id=OTHER_ORG, monitor_id=MONITOR)),
]


@pytest.mark.parametrize("command", [c for _, c in OTHERS], ids=[n for n, _ in OTHERS])
def test_another_organizations_monitor_is_not_found(command: MonitorCommand) -> None:
    state, _ = run(create(), PauseMonitor(organization_id=ORG, monitor_id=MONITOR))
    assert rejected(decide(state, command, ctx())).code == "not_found"


MINE = [
    ("update", UpdateMonitor(organization_id=ORG, monitor_id=MONITOR, spec=spec())),
    ("pause", PauseMonitor(organization_id=ORG, monitor_id=MONITOR)),
    ("resume", ResumeMonitor(organization_id=ORG, monitor_id=MONITOR)),
    ("delete", DeleteMonitor(organization_id=ORG, monitor_id=MONITOR)),
]


@pytest.mark.parametrize("command", [c for _, c in MINE], ids=[n for n, _ in MINE])
def test_a_monitor_that_never_existed_is_not_found(command: MonitorCommand) -> None:
    assert rejected(decide(MonitorState(), command, ctx())).code == "not_found"


@pytest.mark.parametrize("command", [c for _, c in MINE], ids=[n for n, _ in MINE])
def test_a_deleted_monitor_is_not_found(command: MonitorCommand) -> None:
    state, _ = run(create(), DeleteMonitor(organization_id=ORG, monitor_id=MONITOR))
    assert state.deleted
    assert rejected(decide(state, command, ctx())).code == "not_found"


def test_a_deleted_monitor_cannot_be_created_again_under_the_same_id() -> None:
    state, _ = run(create(), DeleteMonitor(organization_id=ORG, monitor_id=MONITOR))
    assert rejected(decide(state, create(), ctx())).code == "conflict"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "keyword", "keyword": ""}, "keyword"),
        ({"type": "json", "json_path": ""}, "json_path"),
        ({"type": "tcp", "hostname": "db.example.com", "port": None}, "port"),
        ({"type": "tcp", "hostname": "", "port": 5432}, "hostname"),
        ({"type": "dns", "hostname": "bad host!"}, "hostname"),
        ({"type": "ping", "hostname": ""}, "hostname"),
        ({"type": "dns", "hostname": "example.com", "dns_resolver": "dns.google"}, "dns_resolver"),
        ({"quorum": 2}, "quorum"),
        ({"retry_interval": 60}, "retry_interval"),
    ],
    ids=[
        "keyword-empty",
        "json-no-path",
        "tcp-no-port",
        "tcp-no-host",
        "dns-bad-host",
        "ping-no-host",
        "resolver-not-an-ip",
        "quorum-over-regions",
        "retry-not-shorter",
    ],
)
def test_each_check_type_is_refused_without_what_it_needs(
    changes: dict[str, object], field: str
) -> None:
    rejected = decide(MonitorState(), create(**changes), ctx())
    assert isinstance(rejected, Rejected)
    assert rejected.field == field


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "tcp", "hostname": "db.example.com", "port": 5432},
        {"type": "tls", "hostname": "", "url": "https://example.com"},
        {"type": "dns", "hostname": "example.com", "dns_resolver": "9.9.9.9:53"},
        {"type": "dns", "hostname": "example.com", "dns_resolver": "[2620:fe::fe]:853"},
        {"type": "ping", "hostname": "2001:db8::1"},
        {"type": "keyword", "keyword": "Welcome"},
    ],
    ids=["tcp", "tls-by-url", "dns-with-resolver", "dns-with-v6-resolver", "ping-v6", "keyword"],
)
def test_each_check_type_is_accepted_with_what_it_needs(changes: dict[str, object]) -> None:
    events = decide(MonitorState(), create(**changes), ctx())
    assert isinstance(events, list)
    assert len(events) == 1


def quota(limit: int, count: int) -> Context:
    return Context(
        aggregate_id=MONITOR,
        event_id="event-1",
        now=NOW,
        min_interval=30,
        max_monitors=limit,
        monitor_count=count,
    )


def test_creating_past_the_organizations_quota_is_refused() -> None:
    rejected = decide(MonitorState(), create(), quota(3, 3))
    assert isinstance(rejected, Rejected)
    assert rejected.code == "quota"
    assert "limit of 3 monitors" in rejected.message
    assert isinstance(decide(MonitorState(), create(), quota(3, 2)), list)
    assert isinstance(decide(MonitorState(), create(), quota(0, 10**6)), list)  # 0: no limit
