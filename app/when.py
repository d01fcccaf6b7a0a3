"""Parsing the dates and instants users type, in a court's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tipstaff.engine.errors import InputError


def parse_when(text: str, *, zone: str, want_time: bool = False) -> dt.date | dt.datetime:
    """``YYYY-MM-DD`` -> a date; an ISO 8601 date-time -> an aware datetime.

    A date-time without an offset is read as wall-clock time in ``zone`` (the court's), and
    refused when that wall-clock time does not exist or happens twice there (DST), rather
    than guessed. With ``want_time`` a plain date is refused.
    """
    text = text.strip()
    if "T" not in text and " " not in text:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{text!r} is not a real date; expected YYYY-MM-DD") from None
        if want_time:
            raise InputError(f"{text!r} has no time of day; an hours period counts from the "
                             "event's instant (e.g. 2013-11-04T15:30-08:00)")
        return day
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a real date and time; expected ISO 8601, e.g. "
                         "2013-11-04T15:30-08:00") from None
    if moment.tzinfo is not None:
        return moment
    tz = ZoneInfo(zone)
    first = moment.replace(tzinfo=tz, fold=0)
    second = moment.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise InputError(f"{text} is ambiguous or does not exist in {zone} (daylight-saving "
                         "change); give the offset explicitly")
    return first


def as_of(text: str | None, *, zone: str, now: dt.datetime) -> dt.datetime:
    """The instant to evaluate at: ``now`` (read once by the shell) when no text is given; a
    plain date means the end of that day in ``zone``."""
    if text is None:
        return now
    when = parse_when(text, zone=zone)
    if isinstance(when, dt.datetime):
        return when
    return dt.datetime.combine(when, dt.time(23, 59, 59), tzinfo=ZoneInfo(zone))
