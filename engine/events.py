"""Case events: the public JSON Lines contract read by ``tipstaff event import``.

One event per line::

    {"case": "west-v-dizon", "type": "documents_served", "occurred_at": "2013-11-08T10:00-08:00",
     "id": "dizon-service-1", "data": {"pages": ["D-1..D-28"], "method": "mail", "to": "plaintiff"}}

``occurred_at`` is ISO 8601 with an offset, or a plain date. ``id`` is the idempotency key;
without one, a key is derived from the line's content so re-importing changes nothing.
Types are past tense; each has its own ``data`` keys (:data:`EVENT_TYPES`). A file is
all-or-nothing: the first bad line raises :class:`DataError` naming the line and field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tipstaff.engine import bates
from tipstaff.engine.datafile import suggest
from tipstaff.engine.errors import DataError, InputError

# Field kinds: "pages" (Bates ranges), "text", "texts" (text or list of text), "bool",
# "int", "date". A trailing "!" marks a required key.
_PAGES_BY = {"pages": "pages", "by": "text"}
EVENT_TYPES: dict[str, dict[str, str]] = {
    "documents_produced": {"pages": "pages", "items": "texts", "method": "text", "to": "text",
                           "by": "text"},
    "documents_served": {"pages": "pages", "items": "texts", "method": "text", "to": "text",
                         "by": "text"},
    "item_delivered": {"item": "text!", "to": "text!", "with": "texts", "by": "text"},
    "document_viewed": dict(_PAGES_BY),
    "copy_made": {"pages": "pages", "by": "text!"},
    "document_shared": {"pages": "pages", "transcript": "text", "by": "text!",
                        "recipient": "text!", "recipient_role": "text",
                        "within_litigation": "bool!"},
    "acknowledgment_signed": {"by": "text!", "role": "text"},
    "documents_returned": {"pages": "pages", "items": "texts", "by": "text", "to": "text"},
    "documents_destroyed": {"pages": "pages", "items": "texts", "by": "text"},
    "certification_served": {"by": "text!", "to": "text", "covers": "text"},
    "filing_made": {"kind": "text!", "by": "text", "docket": "text", "attests_service_on": "date"},
    "designation_made": {"pages": "pages", "transcript": "text", "tier": "text!", "by": "text"},
    "transcript_received": {"transcript": "text!", "by": "text"},
    "unauthorized_disclosure_discovered": {"by": "text!", "recipient": "text",
                                           "pages": "pages"},
    "notice_given": {"kind": "text!", "by": "text!", "to": "text"},
    "material_retrieved": {"by": "text!", "from": "text", "pages": "pages"},
    "subpoena_received": {"by": "text!", "from": "text"},
    "clawback_requested": {"by": "text!", "pages": "pages!"},
    "material_sequestered": {"by": "text!", "pages": "pages"},
    "judgment_entered": {"docket": "text"},
    "judgment_vacated": {"docket": "text"},
    "case_dismissed": {"docket": "text"},
    "notice_of_appeal_filed": {"by": "text", "docket": "text"},
    "appeal_decided": {"docket": "text"},
    "rehearing_denied": {"docket": "text"},
    "mandate_issued": {"docket": "text"},
    "mandate_recalled": {"docket": "text"},
    "cert_denied": {"docket": "text"},
    "order_amended": {"docket": "text"},
    "order_vacated": {"docket": "text"},
    "deadline_extended": {"term": "text!", "until": "date", "by_days": "int", "docket": "text"},
    "clerk_office_closed": {"date": "date!"},
    "event_retracted": {"event": "text!"},
}
_COMMON = {"note": "text"}


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a case. ``occurred_at`` is a date or an aware datetime."""

    case: str
    type: str
    occurred_at: dt.date | dt.datetime
    id: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def day(self, zone: str) -> dt.date:
        """The calendar day of the event in ``zone`` (the court's)."""
        if isinstance(self.occurred_at, dt.datetime):
            return self.occurred_at.astimezone(ZoneInfo(zone)).date()
        return self.occurred_at

    def instant(self, zone: str) -> dt.datetime:
        """When the event counts, in UTC: its instant, or the start of its day in ``zone``."""
        moment = self.occurred_at
        if isinstance(moment, dt.datetime):
            return moment.astimezone(dt.UTC)
        return dt.datetime.combine(moment, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)

    def sort_key(self, zone: str) -> tuple[dt.date, str, str]:
        """Chronological order; a date-only event sorts at the start of its day."""
        moment = self.occurred_at
        clock = (moment.astimezone(ZoneInfo(zone)).time().isoformat()
                 if isinstance(moment, dt.datetime) else "")
        return self.day(zone), clock, self.id

    def pages(self) -> frozenset[str]:
        """The Bates pages the event names (empty when it names none)."""
        return bates.pages(self.data.get("pages", []))

def parse_instant(value: Any) -> dt.date | dt.datetime:
    """ISO 8601 with an offset, or a plain date; an offset-less time is refused."""
    if not isinstance(value, str):
        raise InputError(f"expected an ISO 8601 date or date-time text; got {value!r}")
    if "T" not in value and " " not in value.strip():
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{value!r} is not a real date (YYYY-MM-DD)") from None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InputError(f"{value!r} has no offset; give one (e.g. -08:00) or a plain date")
    return moment


def _check_value(kind: str, value: Any) -> Any:
    if kind == "pages":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError('expected a list of Bates ranges such as ["D-1..D-17", "D-21"]')
        bates.pages(value)
        return value
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"expected non-empty text; got {value!r}")
        return value
    if kind == "texts":
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"expected text or a list of text; got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"expected true or false; got {value!r}")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"expected a whole number; got {value!r}")
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise InputError(f"expected a date YYYY-MM-DD; got {value!r}")
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{value!r} is not a real date (YYYY-MM-DD)") from None
        return value
    raise AssertionError(kind)


def event_from_json(obj: Any, *, source: str, line: int | None = None) -> Event:
    """Validate one decoded JSON object into an :class:`Event`."""
    def fail(field_name: str | None, message: str) -> DataError:
        return DataError(message, file=source, line=line, field=field_name)

    if not isinstance(obj, dict):
        raise fail(None, "expected a JSON object")
    allowed = {"case", "type", "occurred_at", "id", "data"}
    for key in obj:
        if key not in allowed:
            raise fail(key, f"unknown key{suggest(key, allowed)}; expected "
                            f"{', '.join(sorted(allowed))}")
    for key in ("case", "type", "occurred_at"):
        if key not in obj:
            raise fail(key, "required key is missing")
    case = obj["case"]
    if not isinstance(case, str) or not case.strip():
        raise fail("case", "expected the case id as text")
    kind = obj["type"]
    if kind not in EVENT_TYPES:
        raise fail("type", f"unknown event type {kind!r}{suggest(str(kind), EVENT_TYPES)}")
    try:
        occurred = parse_instant(obj["occurred_at"])
    except InputError as exc:
        raise fail("occurred_at", str(exc)) from None
    data = obj.get("data", {})
    if not isinstance(data, dict):
        raise fail("data", "expected a JSON object")
    spec = {**EVENT_TYPES[kind], **_COMMON}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if key not in spec:
            raise fail(f"data.{key}", f"not a key of {kind}{suggest(key, spec)}; expected "
                                      f"{', '.join(sorted(k for k in spec))}")
        try:
            clean[key] = _check_value(spec[key].rstrip("!"), value)
        except InputError as exc:
            raise fail(f"data.{key}", str(exc)) from None
    for key, value_kind in spec.items():
        if value_kind.endswith("!") and key not in clean:
            raise fail(f"data.{key}", f"{kind} requires data.{key}")
    if kind == "deadline_extended" and ("until" in clean) == ("by_days" in clean):
        raise fail("data", "deadline_extended needs exactly one of until, by_days")
    event_id = obj.get("id")
    if event_id is None:
        canonical = json.dumps({k: obj[k] for k in sorted(obj)}, sort_keys=True)
        event_id = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:24]
    elif not isinstance(event_id, str) or not event_id.strip():
        raise fail("id", "expected a non-empty text id")
    return Event(case=case, type=kind, occurred_at=occurred, id=event_id, data=clean)


def parse_events_jsonl(text: str, *, source: str) -> list[Event]:
    """Every event of a JSON Lines text, or :class:`DataError` for the first bad line."""
    events: list[Event] = []
    seen: dict[tuple[str, str], tuple[int, int]] = {}  # (case, id) -> (index, line)
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=source,
                            line=number) from None
        event = event_from_json(obj, source=source, line=number)
        key = (event.case, event.id)
        if key in seen:
            index, first_line = seen[key]
            if events[index] != event:
                raise DataError(f"id {event.id!r} was used on line {first_line} for a "
                                "different event", file=source, line=number, field="id")
            continue
        seen[key] = (len(events), number)
        events.append(event)
    return events
