"""Status pages: the aggregate's rules, the overall status, escaping, badges and passwords."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import msgspec
import pytest
from phoenix_contracts.base import Rejected
from phoenix_contracts.statuspages import (
    CreateStatusPage,
    DeleteStatusPage,
    SetStatusPageMonitors,
    StatusPageCommand,
    StatusPageCreated,
    StatusPageDeleted,
    StatusPageMonitor,
    StatusPageMonitorsSet,
    StatusPageSpec,
    StatusPageUpdated,
    UpdateStatusPage,
)
from phoenix_gateway.config.statuspages import Context, StatusPageState, decide, evolve
from phoenix_gateway.statuspage.badges import status_badge, uptime_badge
from phoenix_gateway.statuspage.passwords import (
    fingerprint,
    hash_password_sync,
    verify_password_sync,
)
from phoenix_gateway.statuspage.render import render_locked, render_page
from phoenix_gateway.statuspage.view import (
    PublicIncident,
    PublicIncidentUpdate,
    PublicMonitor,
    PublicView,
    overall_status,
    public_status,
    public_title,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ORG = "org-1"
PAGE_ID = "page-1"
MON = "mon-1"
HASH = "$scrypt$ln=14,r=8,p=1$c2FsdA$ZGlnZXN0"


def spec(**changes: object) -> StatusPageSpec:
    base = StatusPageSpec(
        slug="shop-status", name="Shop", monitors=[StatusPageMonitor(monitor_id=MON)]
    )
    return msgspec.structs.replace(base, **changes)


def create(**changes: object) -> CreateStatusPage:
    return CreateStatusPage(organization_id=ORG, spec=spec(**changes))


def update(org: str = ORG, password_hash: str | None = None, **changes: object) -> UpdateStatusPage:
    return UpdateStatusPage(
        organization_id=org,
        status_page_id=PAGE_ID,
        spec=spec(**changes),
        password_hash=password_hash,
    )


def run(
    *commands: StatusPageCommand, taken: dict[str, str] | None = None
) -> tuple[StatusPageState, list[object]]:
    state, decisions = StatusPageState(), []
    for n, command in enumerate(commands):
        ctx = Context(PAGE_ID, f"e{n}", NOW, taken or {}, frozenset({MON, "mon-2"}))
        decision = decide(state, command, ctx)
        decisions.append(decision)
        for event in decision if isinstance(decision, list) else []:
            state = evolve(state, event)
    return state, decisions


def outcome(decision: object) -> object:
    if isinstance(decision, Rejected):
        return (decision.code, decision.field)
    assert isinstance(decision, list)
    return [type(e) for e in decision]


@pytest.mark.parametrize(
    ("commands", "taken", "expected"),
    [
        ((create(),), {}, [StatusPageCreated]),
        ((create(),), {"shop-status": "another-page"}, ("conflict", "slug")),
        ((create(slug="ab"),), {}, ("invalid", "slug")),
        ((create(slug="Shop"),), {}, ("invalid", "slug")),
        ((create(slug="shop status"),), {}, ("invalid", "slug")),
        ((create(slug="x" * 65),), {}, ("invalid", "slug")),
        ((create(name=" "),), {}, ("invalid", "name")),
        ((create(theme="neon"),), {}, ("invalid", "theme")),
        ((create(auto_refresh_interval=10),), {}, ("invalid", "auto_refresh_interval")),
        ((create(auto_refresh_interval=30),), {}, [StatusPageCreated]),
        ((create(footer_text="f" * 501),), {}, ("invalid", "footer_text")),
        (
            (create(monitors=[StatusPageMonitor(monitor_id="someone-elses")]),),
            {},
            ("invalid", "monitors"),
        ),
        (
            (create(monitors=[StatusPageMonitor(monitor_id=MON)] * 2),),
            {},
            ("invalid", "monitors"),
        ),
        # keeping its own slug is not a clash
        ((create(), update(name="Shop 2")), {"shop-status": PAGE_ID}, [StatusPageUpdated]),
        ((create(), update(org="org-2")), {}, ("not_found", None)),
        ((update(),), {}, ("not_found", None)),
        ((create(), update(password_hash="plaintext!")), {}, ("invalid", "password")),
        ((create(), update(password_hash=HASH)), {}, [StatusPageUpdated]),
        (
            (
                create(),
                SetStatusPageMonitors(
                    organization_id=ORG,
                    status_page_id=PAGE_ID,
                    monitors=[StatusPageMonitor(monitor_id="nope")],
                ),
            ),
            {},
            ("invalid", "monitors"),
        ),
        (
            (create(), DeleteStatusPage(organization_id=ORG, status_page_id=PAGE_ID)),
            {},
            [StatusPageDeleted],
        ),
    ],
)
def test_status_page_commands_follow_the_rules(
    commands: tuple[StatusPageCommand, ...], taken: dict[str, str], expected: object
) -> None:
    _, decisions = run(*commands, taken=taken)
    assert outcome(decisions[-1]) == expected


def test_setting_monitors_replaces_them_and_a_deleted_page_is_gone() -> None:
    monitors = [StatusPageMonitor(monitor_id="mon-2", display_name="API", weight=-1)]
    set_them = SetStatusPageMonitors(organization_id=ORG, status_page_id=PAGE_ID, monitors=monitors)
    delete = DeleteStatusPage(organization_id=ORG, status_page_id=PAGE_ID)
    state, decisions = run(create(), set_them)
    assert outcome(decisions[-1]) == [StatusPageMonitorsSet]
    assert state.spec is not None
    assert state.spec.monitors == monitors
    assert state.spec.slug == "shop-status"
    assert state.version == 2
    _, decisions = run(create(), delete, delete)
    assert outcome(decisions[-1]) == ("not_found", None)


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [
        ([], "unknown"),
        (["up", "up"], "up"),
        (["up", "unknown"], "unknown"),
        (["up", "maintenance", "unknown"], "maintenance"),
        (["maintenance", "degraded", "up"], "degraded"),
        (["degraded", "down", "maintenance"], "down"),
        (["paused", "up"], "up"),  # a paused monitor says nothing about the whole
        (["paused"], "unknown"),
    ],
)
def test_the_overall_status_is_the_worst_of_the_monitors(statuses: list[str], overall: str) -> None:
    assert overall_status(statuses) == overall


def test_pending_monitors_are_unknown_and_paused_ones_paused() -> None:
    assert public_status("pending", paused=False) == "unknown"
    assert public_status("down", paused=True) == "paused"
    assert public_status("degraded", paused=False) == "degraded"


def test_incident_titles_use_the_name_the_page_gives_the_monitor() -> None:
    assert public_title("db-primary-7 is down", "db-primary-7", "Database") == "Database is down"
    assert public_title("Hand-written", "db-primary-7", "Database") == "Hand-written"


HOSTILE = "<script>alert(1)</script>\"'&"


def hostile_view() -> PublicView:
    return PublicView(
        slug="shop-status",
        name=HOSTILE,
        description=HOSTILE,
        theme='auto" onload="x',
        footer_text=HOSTILE,
        show_uptime_percentage=True,
        auto_refresh_interval=60,
        status="down",
        monitors=[
            PublicMonitor(
                id=MON, display_name=HOSTILE, status="down", uptime={"24h": 99.5, "7d": None}
            )
        ],
        incidents=[
            PublicIncident(
                id="i",
                monitor_id=MON,
                title=HOSTILE,
                status="open",
                started_at=NOW,
                updates=[PublicIncidentUpdate(at=NOW, message=HOSTILE)],
            )
        ],
        generated_at=NOW,
    )


def test_the_html_escapes_everything_a_user_wrote() -> None:
    page = render_page(hostile_view(), nonce="n0nce")
    assert "<script" not in page
    assert 'onload="x' not in page
    assert (
        page.count("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;") == 7
    )  # title, heading, description, monitor, incident, update, footer
    assert '<style nonce="n0nce">' in page
    assert '<meta http-equiv="refresh" content="60">' in page
    assert "24h 99.50%" in page
    assert "7d n/a" in page


def test_the_password_form_posts_back_to_the_page_and_escapes_its_message() -> None:
    form = render_locked("shop-status", "n", problem="<b>wrong</b>")
    assert 'action="/status/shop-status"' in form
    assert "&lt;b&gt;wrong&lt;/b&gt;" in form
    assert "<b>" not in form


@pytest.mark.parametrize(
    ("svg", "texts", "color"),
    [
        (status_badge("status", "up"), ["status", "up"], "#1f8b4c"),
        (status_badge("<API & co>", "down"), ["<API & co>", "down"], "#c0392b"),
        (uptime_badge("uptime 24h", 99.987), ["uptime 24h", "99.99%"], "#1f8b4c"),
        (uptime_badge("uptime 7d", 97.0), ["uptime 7d", "97.00%"], "#c27c0e"),
        (uptime_badge("uptime 30d", None), ["uptime 30d", "n/a"], "#6b7780"),
    ],
)
def test_badges_are_valid_svg_with_the_right_text_and_colour(
    svg: str, texts: list[str], color: str
) -> None:
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert [t.text for t in root.findall(".//s:text", ns)] == texts
    assert color in [r.get("fill") for r in root.findall("s:rect", ns)]
    assert "<script" not in svg
    assert int(root.get("width", "0")) > 0


def test_a_password_hash_verifies_only_its_password_and_hides_it() -> None:
    hashed = hash_password_sync("correct horse")
    assert hashed.startswith("$scrypt$")
    assert "correct horse" not in hashed
    assert verify_password_sync(hashed, "correct horse")
    assert not verify_password_sync(hashed, "wrong horse")
    assert not verify_password_sync("garbage", "correct horse")
    assert hash_password_sync("correct horse") != hashed  # salted
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint(hashed))


def test_a_monitor_deleted_after_it_was_listed_does_not_block_edits() -> None:
    listed = create(monitors=[StatusPageMonitor(monitor_id="gone-since")])
    state = StatusPageState()
    created = decide(state, listed, Context(PAGE_ID, "e0", NOW, {}, frozenset({"gone-since"})))
    assert isinstance(created, list)
    state = evolve(state, created[0])
    rename = update(name="Renamed", monitors=[StatusPageMonitor(monitor_id="gone-since")])
    decision = decide(state, rename, Context(PAGE_ID, "e1", NOW, {}, frozenset({MON})))
    assert outcome(decision) == [StatusPageUpdated]
    stranger = update(monitors=[StatusPageMonitor(monitor_id="another-orgs")])
    refused = decide(state, stranger, Context(PAGE_ID, "e1", NOW, {}, frozenset({MON})))
    assert outcome(refused) == ("invalid", "monitors")
