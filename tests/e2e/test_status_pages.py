"""Status pages end to end: managed over the API, read by anyone, kept fresh by events."""

from __future__ import annotations

import re
import time
import uuid
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.e2e.peers import Target
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in, wait_for_status

pytestmark = pytest.mark.e2e

PAGE_PASSWORD = "page passphrase 42"
XSS = "<script>alert(1)</script>"
SVG = "{http://www.w3.org/2000/svg}"


def slug() -> str:
    return "status-" + uuid.uuid4().hex[:10]


def add_monitor(client: httpx.Client, auth: dict[str, str], url: str, name: str) -> str:
    created = client.post(
        "/api/v1/monitors",
        json={
            "name": name,
            "type": "http",
            "url": url,
            "interval": 1,
            "timeout": 0.8,
            "failure_threshold": 1,
            "recovery_threshold": 1,
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    monitor_id: str = created.json()["id"]
    return monitor_id


def anonymous(stack: RunningStack) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, timeout=20)


def badge_texts(svg: str) -> list[str | None]:
    root = ET.fromstring(svg)  # noqa: S314 (the stack's own answer)
    assert root.tag == SVG + "svg"
    return [t.text for t in root.iter(SVG + "text")]


@pytest.fixture(scope="module")
def owner(stack: RunningStack) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    return client, sign_up_and_log_in(client)


def test_status_pages_are_managed_and_slugs_are_unique_everywhere(
    stack: RunningStack, owner: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, auth = owner
    monitor = add_monitor(client, auth, "http://127.0.0.1:9/", "internal-name")
    name = slug()
    created = client.post(
        "/api/v1/status-pages",
        json={
            "slug": name,
            "name": "Shop",
            "password": PAGE_PASSWORD,
            "monitors": [{"monitor_id": monitor, "display_name": "Shop", "weight": 1}],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    page = created.json()
    assert page["slug"] == name
    assert page["has_password"] is True
    assert page["theme"] == "auto"
    assert page["monitors"] == [{"monitor_id": monitor, "display_name": "Shop", "weight": 1}]
    assert "password" not in page
    assert "password_hash" not in page
    assert PAGE_PASSWORD not in created.text
    assert "$scrypt$" not in created.text

    # The slug is the public address: taken for everyone, whoever asks.
    stranger_client = anonymous(stack)
    stranger = sign_up_and_log_in(stranger_client)
    clash = stranger_client.post(
        "/api/v1/status-pages", json={"slug": name, "name": "Mine"}, headers=stranger
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["errors"][0]["field"] == "slug"
    bad = client.post("/api/v1/status-pages", json={"slug": "No Way", "name": "x"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "slug"
    short = client.post(
        "/api/v1/status-pages",
        json={"slug": slug(), "name": "x", "password": "short"},
        headers=auth,
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "password"
    custom_css = client.post(
        "/api/v1/status-pages",
        json={"slug": slug(), "name": "x", "custom_css": "body{}"},
        headers=auth,
    )
    assert custom_css.status_code == 400  # not a field: a CSS injection vector

    # Another organization's monitor cannot be listed; its page cannot be seen.
    path = f"/api/v1/status-pages/{page['id']}"
    foreign = stranger_client.post(
        "/api/v1/status-pages",
        json={"slug": slug(), "name": "Theirs", "monitors": [{"monitor_id": monitor}]},
        headers=stranger,
    )
    assert foreign.status_code == 422, foreign.text
    assert foreign.json()["errors"][0]["field"] == "monitors"
    assert stranger_client.get(path, headers=stranger).status_code == 404
    assert stranger_client.get(path + "/monitors", headers=stranger).status_code == 404
    taken = stranger_client.put(path + "/monitors", json={"monitors": []}, headers=stranger)
    assert taken.status_code == 404
    assert stranger_client.delete(path, headers=stranger).status_code == 404

    listed = client.get("/api/v1/status-pages", headers=auth).json()
    assert [p["id"] for p in listed["items"]] == [page["id"]]
    assert listed["next_cursor"] is None

    changed = client.patch(
        path, json={"name": "Shop & Co", "password": "", "theme": "dark"}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Shop & Co"
    assert changed.json()["has_password"] is False
    assert changed.json()["theme"] == "dark"
    assert changed.json()["slug"] == name  # untouched fields stay
    assert client.patch(path, json={"auto_refresh_interval": 5}, headers=auth).status_code == 422

    replaced = client.put(path + "/monitors", json={"monitors": []}, headers=auth)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {"status_page_id": page["id"], "monitors": []}
    assert client.get(path + "/monitors", headers=auth).json()["monitors"] == []

    public_url = f"/api/v1/public/status-pages/{name}"
    assert stranger_client.get(public_url).json()["name"] == "Shop & Co"  # now cached
    assert client.delete(path, headers=auth).status_code == 204
    assert client.get(path, headers=auth).status_code == 404
    assert anonymous(stack).get(public_url).status_code == 404  # not served from the cache
    again = stranger_client.post(
        "/api/v1/status-pages", json={"slug": name, "name": "Mine now"}, headers=stranger
    )
    assert again.status_code == 201, again.text  # a deleted page frees its slug
    assert PAGE_PASSWORD not in stack.log()
    assert "$scrypt$" not in stack.log()


def test_the_public_page_shows_the_worst_status_and_follows_changes_within_a_second(
    stack: RunningStack, owner: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, auth = owner
    steady, flaky = Target(), Target()
    try:
        steady_id = add_monitor(client, auth, steady.url, "steady")
        flaky_id = add_monitor(client, auth, flaky.url, "flaky-internal")
        name = slug()
        created = client.post(
            "/api/v1/status-pages",
            json={
                "slug": name,
                "name": "Shop",
                "monitors": [
                    {"monitor_id": flaky_id, "display_name": "Checkout", "weight": 2},
                    {"monitor_id": steady_id, "display_name": "Website", "weight": 1},
                ],
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        wait_for_status(client, auth, steady_id, "up", timeout=20)
        wait_for_status(client, auth, flaky_id, "up", timeout=20)
        # The status comes from the event log, the uptime from the check history,
        # which the history writer stores in batches a moment later. The page is
        # cached, so it is opened only once the history has the check.
        checks = f"/api/v1/monitors/{steady_id}/checks"
        deadline = time.monotonic() + 5
        while not client.get(checks, headers=auth).json()["items"]:
            assert time.monotonic() < deadline, "the check never reached the history"
            time.sleep(0.05)
        public = anonymous(stack)
        url = f"/api/v1/public/status-pages/{name}"
        view = public.get(url)
        assert view.status_code == 200, view.text
        body = view.json()
        assert body["status"] == "up"
        assert [m["display_name"] for m in body["monitors"]] == ["Website", "Checkout"]
        assert {m["status"] for m in body["monitors"]} == {"up"}
        assert set(body["monitors"][0]["uptime"]) == {"24h", "7d", "30d"}
        assert body["monitors"][0]["uptime"]["24h"] == 100.0
        assert body["incidents"] == []
        assert view.headers["x-content-type-options"] == "nosniff"
        assert public.get(url).json()["generated_at"] == body["generated_at"]  # from the cache

        flaky.status = 500
        wait_for_status(client, auth, flaky_id, "down", timeout=20)
        seen_down_at = time.monotonic()
        while public.get(url).json()["status"] != "down":
            assert time.monotonic() - seen_down_at < 1.5, "the cached page kept the old status"
            time.sleep(0.05)
        body = public.get(url).json()
        assert [m["status"] for m in body["monitors"]] == ["up", "down"]
        assert len(body["incidents"]) == 1
        incident = body["incidents"][0]
        assert incident["monitor_id"] == flaky_id
        assert incident["title"] == "Checkout is down"  # the page's name, not the internal one
        assert "flaky-internal" not in public.get(url).text
        written = client.post(
            f"/api/v1/incidents/{incident['id']}/updates",
            json={"message": "we are on it"},
            headers=auth,
        )
        assert written.status_code == 201, written.text
        deadline = time.monotonic() + 1.5
        while not public.get(url).json()["incidents"][0]["updates"]:
            assert time.monotonic() < deadline, "the incident update did not reach the page"
            time.sleep(0.05)
        assert [u["message"] for u in public.get(url).json()["incidents"][0]["updates"]] == [
            "we are on it"
        ]

        # Page edits show at once too.
        page_path = f"/api/v1/status-pages/{created.json()['id']}"
        client.patch(page_path, json={"name": "Shop (renamed)"}, headers=auth)
        assert public.get(url).json()["name"] == "Shop (renamed)"
        badge = public.get(url + "/badge.svg")
        assert badge.status_code == 200
        assert badge.headers["content-type"].startswith("image/svg+xml")
        assert badge_texts(badge.text) == ["status", "down"]
        flaky_badge = public.get(f"{url}/monitors/{flaky_id}/badge.svg")
        assert badge_texts(flaky_badge.text) == ["Checkout", "down"]
        uptime = public.get(
            f"{url}/monitors/{steady_id}/badge.svg", params={"type": "uptime", "window": "7d"}
        )
        assert badge_texts(uptime.text) == ["uptime 7d", "100.00%"]
        other = add_monitor(client, auth, steady.url, "not on the page")
        assert public.get(f"{url}/monitors/{other}/badge.svg").status_code == 404
        bad_window = public.get(f"{url}/monitors/{steady_id}/badge.svg", params={"window": "1y"})
        assert bad_window.status_code == 400

        client.post(f"/api/v1/monitors/{flaky_id}/pause", headers=auth)
        deadline = time.monotonic() + 1.5
        while public.get(url).json()["status"] != "up":
            assert time.monotonic() < deadline, "a paused monitor still decides the overall status"
            time.sleep(0.05)
        assert [m["status"] for m in public.get(url).json()["monitors"]] == ["up", "paused"]
    finally:
        steady.close()
        flaky.close()


def test_the_html_page_escapes_names_and_locks_down_the_browser(
    stack: RunningStack, owner: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, auth = owner
    monitor = add_monitor(client, auth, "http://127.0.0.1:9/", "m")
    name = slug()
    created = client.post(
        "/api/v1/status-pages",
        json={
            "slug": name,
            "name": "Status & <b>news</b>",
            "footer_text": XSS,
            "auto_refresh_interval": 60,
            "monitors": [{"monitor_id": monitor, "display_name": XSS}],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    page = anonymous(stack).get(f"/status/{name}")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert XSS not in page.text
    assert "<script" not in page.text
    assert "Status &amp; &lt;b&gt;news&lt;/b&gt;" in page.text
    assert '<meta http-equiv="refresh" content="60">' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    nonce = re.search(r"style-src 'nonce-([^']+)'", csp)
    assert nonce is not None
    assert f'<style nonce="{nonce.group(1)}">' in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    again = anonymous(stack).get(f"/status/{name}")
    assert again.headers["content-security-policy"] != csp  # a fresh nonce every time


def test_a_private_page_is_indistinguishable_from_an_unknown_slug(
    stack: RunningStack, owner: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, auth = owner
    private = slug()
    created = client.post(
        "/api/v1/status-pages",
        json={"slug": private, "name": "Hidden", "is_public": False},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    public = anonymous(stack)
    for suffix in ("", "/badge.svg", f"/monitors/{uuid.uuid4()}/badge.svg"):
        hidden = public.get(f"/api/v1/public/status-pages/{private}{suffix}")
        unknown = public.get(f"/api/v1/public/status-pages/{slug()}{suffix}")
        assert hidden.status_code == unknown.status_code == 404
        same = {k: v for k, v in hidden.json().items() if k != "instance"}
        assert same == {k: v for k, v in unknown.json().items() if k != "instance"}
        assert "Hidden" not in hidden.text
    html_hidden = public.get(f"/status/{private}")
    html_unknown = public.get(f"/status/{slug()}")
    assert html_hidden.status_code == html_unknown.status_code == 404
    strip = re.compile(r'nonce="[^"]+"')
    assert strip.sub("", html_hidden.text) == strip.sub("", html_unknown.text)
    unlock = public.post(
        f"/api/v1/public/status-pages/{private}/unlock", json={"password": "anything at all"}
    )
    assert unlock.status_code == 404


def test_a_protected_page_opens_with_its_password_only(
    stack: RunningStack, owner: tuple[httpx.Client, dict[str, str]]
) -> None:
    client, auth = owner
    name = slug()
    created = client.post(
        "/api/v1/status-pages",
        json={"slug": name, "name": "Members", "password": PAGE_PASSWORD},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/public/status-pages/{name}"
    visitor = anonymous(stack)
    assert visitor.get(url).status_code == 401
    assert visitor.get(url + "/badge.svg").status_code == 401
    locked_html = visitor.get(f"/status/{name}")
    assert locked_html.status_code == 401
    assert "Members" not in locked_html.text
    assert f'action="/status/{name}"' in locked_html.text

    wrong = visitor.post(url + "/unlock", json={"password": "not the password"})
    assert wrong.status_code == 401
    assert "set-cookie" not in wrong.headers
    assert visitor.get(url).status_code == 401
    right = visitor.post(url + "/unlock", json={"password": PAGE_PASSWORD})
    assert right.status_code == 200, right.text
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert visitor.get(url).status_code == 200
    assert visitor.get(url).json()["name"] == "Members"
    assert visitor.get(url + "/badge.svg").status_code == 200
    assert visitor.get(f"/status/{name}").status_code == 200

    # The HTML form does the same, and lands back on the page.
    browser = anonymous(stack)
    refused = browser.post(f"/status/{name}", data={"password": "nope nope"})
    assert refused.status_code == 401
    assert "wrong password" in refused.text
    opened = browser.post(f"/status/{name}", data={"password": PAGE_PASSWORD})
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/status/{name}"
    assert browser.get(f"/status/{name}").status_code == 200

    # A new password ends every unlock made with the old one.
    page_path = f"/api/v1/status-pages/{created.json()['id']}"
    changed = client.patch(page_path, json={"password": "another long one"}, headers=auth)
    assert changed.status_code == 200
    assert changed.json()["has_password"] is True
    assert visitor.get(url).status_code == 401

    # Guessing is throttled per page and address (10 wrong in 15 minutes, the two wrong
    # ones above included); then even the right password waits.
    guesser = anonymous(stack)
    answers = [
        guesser.post(url + "/unlock", json={"password": f"guess {n}"}).status_code
        for n in range(12)
    ]
    assert answers == [401] * 8 + [429] * 4
    throttled = guesser.post(url + "/unlock", json={"password": "another long one"})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0

    for response in (created, changed, client.get(page_path, headers=auth)):
        assert PAGE_PASSWORD not in response.text
        assert "another long one" not in response.text
        assert "$scrypt$" not in response.text
    log = stack.log()
    assert PAGE_PASSWORD not in log
    assert "another long one" not in log
    assert "$scrypt$" not in log
