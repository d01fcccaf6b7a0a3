"""The store contract, run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pgtools import drop_database, require_database
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tipstaff.engine.evaluate import Evaluator
from tipstaff.engine.events import Event, parse_events_jsonl
from tipstaff.engine.order import load_bundled_order
from tipstaff.store import db, repo
from tipstaff.store.models import EventRow

NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
WEST = load_bundled_order("west-v-dizon")
WEST_TEXT = resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.yaml").read_text()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Engine]:
    """An initialised store on each back-end; PostgreSQL skips cleanly where absent (and
    fails in CI, where it must be present)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.sqlite3'}"
    else:
        url = require_database("tipstaff_test")
    engine = db.make_engine(url)
    db.init(engine)
    yield engine
    engine.dispose()
    if request.param == "postgres":
        drop_database(url)


def _timeline() -> list[Event]:
    raw = resources.files("tipstaff.rules").joinpath("orders",
                                                     "west-v-dizon.events.jsonl").read_text()
    return parse_events_jsonl(raw, source="west-v-dizon.events.jsonl")


def _open(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        repo.add_order(session, order=WEST, content=WEST_TEXT, at=NOW)
        repo.open_case(session, case_id="west-v-dizon", order=WEST,
                       zone="America/Los_Angeles", at=NOW)


def test_init_is_idempotent_and_head_is_current(store: Engine) -> None:
    """A second init changes nothing; the schema is at head."""
    assert db.init(store) == (db.head_revision(), db.head_revision())
    assert db.check_known(store) == db.head_revision()


def test_events_round_trip_with_their_zone(store: Engine) -> None:
    """Stored events come back equal, instants with the offset they were given in."""
    _open(store)
    events = _timeline()
    with Session(store) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        added, skipped = repo.add_events(session, case=case, events=events, at=NOW)
    assert (len(added), len(skipped)) == (len(events), 0)
    with Session(store) as session:
        back, last = repo.list_events(session, case_id="west-v-dizon")
    assert back == events and last > 0


def test_reimport_is_idempotent_and_changed_content_is_refused(store: Engine) -> None:
    """The same events twice are recorded once; a reused id with new content rolls back."""
    _open(store)
    events = _timeline()
    for _ in range(2):
        with Session(store) as session, session.begin():
            case = repo.get_case(session, case_id="west-v-dizon")
            repo.add_events(session, case=case, events=events, at=NOW)
    changed = Event(case="west-v-dizon", type="copy_made", occurred_at=dt.date(2014, 1, 1),
                    id=events[0].id, data={"by": "west"})
    with pytest.raises(db.StoreError, match="different content"), \
            Session(store) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        repo.add_events(session, case=case, events=[changed], at=NOW)
    with Session(store) as session:
        assert len(repo.list_events(session, case_id="west-v-dizon")[0]) == len(events)


def test_events_and_findings_commit_together_or_not_at_all(store: Engine) -> None:
    """A failure after the events are added rolls back the events too."""
    _open(store)
    with pytest.raises(RuntimeError), Session(store) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        repo.add_events(session, case=case, events=_timeline(), at=NOW)
        raise RuntimeError("crash before the findings were written")
    with Session(store) as session:
        assert repo.list_events(session, case_id="west-v-dizon")[0] == []


def test_changed_deadlines_are_new_versions(store: Engine) -> None:
    """Recording findings twice with a moved date keeps both versions, newest superseding."""
    _open(store)
    events = _timeline()
    with Session(store, expire_on_commit=False) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        early = Evaluator().evaluate(WEST, events[:7], at=NOW)  # judgment only
        repo.add_findings(session, case=case, report=early, through_seq=7, at=NOW)
        late = Evaluator().evaluate(WEST, events, at=NOW)
        repo.add_findings(session, case=case, report=late, through_seq=12, at=NOW)
        history = repo.deadline_history(session, case_id="west-v-dizon",
                                        term_id="return-documents")
    assert [h.version for h in history] == [1, 2]
    assert history[1].supersedes == history[0].id
    assert history[0].due_date == dt.date(2014, 3, 24)
    assert history[1].due_date == dt.date(2015, 8, 6)
    assert "FRCP 6(a)(1)(A)" in history[1].explanation


def test_a_tampered_event_breaks_the_chain(store: Engine) -> None:
    """Editing a stored event's data is found by verify_chains, naming the event."""
    _open(store)
    with Session(store) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        repo.add_events(session, case=case, events=_timeline(), at=NOW)
        repo.add_audit(session, at=NOW, actor="test", action="event.add", subject="west")
    with Session(store) as session:
        assert repo.verify_chains(session) == []
    with store.begin() as connection:
        connection.execute(
            text("UPDATE events SET data = :d WHERE event_id = 'wd-006-shared-court'"),
            {"d": json.dumps({"by": "west", "within_litigation": True})})
    with Session(store) as session:
        problems = repo.verify_chains(session)
    assert len(problems) == 1 and "wd-006-shared-court" in problems[0]


def test_a_newer_schema_is_refused(store: Engine) -> None:
    """A database at an unknown (newer) revision is refused clearly."""
    with store.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(db.StoreError, match="newer than this Tipstaff"):
        db.check_known(store)


def test_an_uninitialised_database_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Opening a database nobody initialised says to run tipstaff init."""
    url = f"sqlite:///{tmp_path_factory.mktemp('empty') / 'x.sqlite3'}"
    with pytest.raises(db.StoreError, match="tipstaff init"):
        db.open_store(url)


instants = st.datetimes(min_value=dt.datetime(1990, 1, 2), max_value=dt.datetime(2100, 12, 30),
                        timezones=st.sampled_from([dt.UTC,
                                                   dt.timezone(dt.timedelta(hours=-8)),
                                                   dt.timezone(dt.timedelta(hours=-7)),
                                                   dt.timezone(dt.timedelta(hours=5,
                                                                            minutes=30))]))


@settings(max_examples=40, deadline=None)
@given(moment=instants)
def test_instants_round_trip_on_sqlite(moment: dt.datetime) -> None:
    """Any instant stored in SQLite comes back as the same instant with the same offset."""
    engine = db.make_engine("sqlite:///:memory:")
    db.init(engine)
    _open(engine)
    _round_trip(engine, moment)


def _round_trip(engine: Engine, moment: dt.datetime) -> None:
    event = Event(case="west-v-dizon", type="document_viewed", occurred_at=moment,
                  id=f"e-{moment.isoformat()}", data={"by": "west"})
    with Session(engine) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        repo.add_events(session, case=case, events=[event], at=NOW)
    with Session(engine) as session:
        back = next(e for e in repo.list_events(session, case_id="west-v-dizon")[0]
                    if e.id == event.id)
    assert back.occurred_at == moment
    assert isinstance(back.occurred_at, dt.datetime)
    assert back.occurred_at.utcoffset() == moment.utcoffset()


def test_instants_round_trip_on_both_backends(store: Engine) -> None:
    """A property sample of instants round-trips on this back-end too."""
    _open(store)

    @settings(max_examples=25, deadline=None)
    @given(moment=instants)
    def check(moment: dt.datetime) -> None:
        _round_trip(store, moment)

    check()


def test_the_idempotency_key_is_unique_per_case(store: Engine) -> None:
    """The database itself refuses a second row with the same (case, event id)."""
    _open(store)
    with Session(store) as session, session.begin():
        case = repo.get_case(session, case_id="west-v-dizon")
        repo.add_events(session, case=case, events=_timeline()[:1], at=NOW)
    row = {"case_id": "west-v-dizon", "event_id": _timeline()[0].id, "type": "x",
           "zone": "UTC", "data": "{}", "recorded_utc": NOW.replace(tzinfo=None),
           "prev_hash": "0", "hash": "0"}
    with pytest.raises(IntegrityError), Session(store) as session, session.begin():
        session.execute(EventRow.__table__.insert().values(**row))
