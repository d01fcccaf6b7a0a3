"""The web pages through a real HTTP server: sign-in, cookies, CSRF, rate limiting, the
custody form's validation, alert acknowledgment, and the calendar feeds parsed back."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from icalendar import Calendar
from web_server import PASSWORD, Server, start


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(tmp_path_factory.mktemp("pages") / "home")
    yield running
    running.stop()


@contextmanager
def _login(server: Server, user: str) -> Iterator[httpx.Client]:
    # Secure cookies: httpx sends them to 127.0.0.1 only over https, so the session cookie
    # is copied by hand here; the browser tests use a real browser.
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post("/login", data={"username": user, "password": PASSWORD})
        assert response.status_code == 303, response.text
        token = re.search(r"tipstaff_session=([^;]+)", response.headers["set-cookie"])
        assert token is not None
        client.cookies.set("tipstaff_session", token.group(1))
        yield client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_session_cookie_is_httponly_secure_and_strict(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        response = client.post("/login", data={"username": "counsel", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_pages_need_a_session(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        response = client.get("/cases/west-v-dizon")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_forms_refuse_a_missing_csrf_token(server: Server) -> None:
    with _login(server, "fresh-coordinator") as client:
        response = client.post("/cases/fresh-case/custody",
                               data={"type": "documents_returned", "pages": "D-1",
                                     "occurred_at": "2026-01-01T10:00", "by": "west"})
    assert response.status_code == 403


def test_custody_form_shows_errors_next_to_fields(server: Server) -> None:
    with _login(server, "fresh-coordinator") as client:
        form = client.get("/cases/fresh-case/custody")
        response = client.post("/cases/fresh-case/custody", data={
            "csrf": _csrf(form.text), "type": "documents_returned", "pages": "D-29, D-99",
            "occurred_at": "not a time", "by": "litigation-coordinator"})
    assert response.status_code == 422
    assert 'id="pages-error">Not produced under this order: D-29, D-99' in response.text
    assert 'aria-describedby="pages-error"' in response.text
    assert 'id="occurred-error">Give the date and time' in response.text


def test_cross_case_page_is_404_and_coordinator_cannot_see_other_cases(server: Server
                                                                       ) -> None:
    with _login(server, "fresh-coordinator") as client:
        assert client.get("/cases/west-v-dizon").status_code == 404
        assert client.get("/cases/other-case/custody").status_code == 404
    with _login(server, "auditor") as client:
        assert client.get("/cases/west-v-dizon/custody").status_code == 403


def test_case_page_shows_the_orders_words_and_no_protected_text(server: Server) -> None:
    with _login(server, "counsel") as client:
        html = client.get("/cases/west-v-dizon").text
    assert "shall not be shared outside this litigation" in html
    assert "Order of Nov. 4, 2013 ¶ 4(3), p. 5" in html
    assert 'data-page="D-29"' in html
    # Event notes are free text and never shown. (The order's own words, which name the
    # redacted section, are public and are shown.)
    for secret in ("not found in plaintiff", "Attached as an exhibit",
                   "Hypothetical judgment date"):
        assert secret not in html


def test_acknowledging_an_alert(server: Server) -> None:
    """A sent alert appears on the dashboard until acknowledged (audited)."""
    with sqlite3.connect(server.home / "tipstaff.sqlite3") as db:
        db.execute("UPDATE outbox SET state = 'sent' WHERE id = (SELECT min(id) FROM outbox "
                   "WHERE case_id = 'fresh-case')")
        key = db.execute("SELECT key FROM outbox WHERE case_id = 'fresh-case' AND "
                         "state = 'sent'").fetchone()[0]
    with _login(server, "fresh-counsel") as client:
        page = client.get("/")
        assert f"/alerts/{key}/ack" in page.text
        done = client.post(f"/alerts/{key}/ack", data={"csrf": _csrf(page.text)})
        assert done.status_code == 303
        assert f"/alerts/{key}/ack" not in client.get("/").text
    with sqlite3.connect(server.home / "tipstaff.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM audit WHERE action = 'alert.ack'"
                          ).fetchone()[0] == 1


def _feed(server: Server, user: str, case: str = "") -> str:
    with _login(server, user) as client:
        page = client.get("/calendar")
        created = client.post("/calendar", data={"csrf": _csrf(page.text), "case": case})
    found = re.search(r'id="feed-url">([^<]+)<', created.text)
    assert found is not None
    return found.group(1)


def _events(url: str) -> dict[str, object]:
    body = httpx.get(url, timeout=30)
    assert body.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(body.content)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_calendar_feed_updates_in_place_and_cancels(server: Server) -> None:
    """The fresh case's return date is an all-day event with a reminder; once every page
    comes back, the same UID is re-sent, with a higher SEQUENCE, as CANCELLED."""
    url = _feed(server, "fresh-counsel", "fresh-case")
    uid = "fresh-case.return-documents@tipstaff"
    before = _events(url)[uid]
    assert before["status"] in ("TENTATIVE", "CONFIRMED")  # type: ignore[index]
    assert "later" in str(before["description"])  # type: ignore[index]
    assert before.walk("VALARM")  # type: ignore[attr-defined]
    with httpx.Client(base_url=server.url, headers={
            "Authorization": f"Bearer {server.tokens['fresh-coordinator']}"}) as client:
        response = client.post("/api/v1/cases/fresh-case/events", json={
            "type": "documents_returned", "id": "all-back",
            "occurred_at": "2026-11-20T10:00:00-08:00",
            "data": {"pages": ["D-1..D-28", "D-30..D-37", "D-39..D-41"],
                     "by": "litigation-coordinator", "to": "defense-counsel"}})
        assert response.status_code == 201, response.text
    after = _events(url)[uid]
    assert after["status"] == "CANCELLED"  # type: ignore[index]
    assert int(after["sequence"]) > int(before["sequence"])  # type: ignore[index]
    assert after["dtstart"].dt == before["dtstart"].dt  # type: ignore[index]
    other = _events(_feed(server, "counsel"))
    assert all(key.startswith("west-v-dizon.") for key in other)
    assert httpx.get(f"{server.url}/feeds/feed_forged.ics").status_code == 404


def test_login_is_rate_limited(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        for _ in range(5):
            assert client.post("/login", data={"username": "auditor",
                                               "password": "wrong"}).status_code == 401
        blocked = client.post("/login", data={"username": "auditor", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    # Another user from the same address is not locked out by someone else's typos.
    with _login(server, "counsel") as client:
        assert client.get("/").status_code == 200
