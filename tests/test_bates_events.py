"""Bates ranges and the case-event JSON Lines contract."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from tipstaff.engine import bates
from tipstaff.engine.errors import DataError, InputError
from tipstaff.engine.events import parse_events_jsonl


def test_ranges_expand_and_render_compactly() -> None:
    """D-1..D-41 less two pages renders as three ranges."""
    pages = bates.pages(["D-1..D-41"]) - {"D-29", "D-38"}
    assert bates.render(pages) == ["D-1..D-28", "D-30..D-37", "D-39..D-41"]


def test_zero_padded_numbers_keep_their_width() -> None:
    """ABC000123..ABC000125 keeps the padding."""
    assert bates.expand("ABC000123..ABC000125") == ["ABC000123", "ABC000124", "ABC000125"]


@pytest.mark.parametrize("spec", ["D-5..C-7", "D-9..D-2", "banana"])
def test_malformed_ranges_are_refused(spec: str) -> None:
    """Mixed prefixes, backward ranges and non-numbers are refused."""
    with pytest.raises(InputError):
        bates.expand(spec)


def test_the_bundled_sample_timeline_parses() -> None:
    """The shipped West v. Dizon timeline is valid and has unique ids."""
    text = resources.files("tipstaff.rules").joinpath("orders",
                                                      "west-v-dizon.events.jsonl").read_text()
    events = parse_events_jsonl(text, source="west-v-dizon.events.jsonl")
    assert len(events) == len({e.id for e in events}) >= 10


LINE = {"case": "c", "type": "copy_made", "occurred_at": "2014-01-02T10:00:00-08:00",
        "id": "e1", "data": {"pages": ["D-1"], "by": "west"}}


def _bad(change: dict[str, object], drop: str | None = None) -> DataError:
    good = json.dumps({**LINE, "id": "e0"})
    obj = {**LINE, **change}
    if drop:
        obj.pop(drop)
    with pytest.raises(DataError) as caught:
        parse_events_jsonl(good + "\n" + json.dumps(obj) + "\n", source="events.jsonl")
    assert caught.value.line == 2
    assert str(caught.value).startswith("events.jsonl:2: ")
    return caught.value


def test_unknown_type_suggests_the_closest() -> None:
    """A misspelt type names line and field with a did-you-mean."""
    error = _bad({"type": "copy_mad"})
    assert error.field == "type" and "did you mean 'copy_made'" in str(error)


def test_offsetless_time_is_refused() -> None:
    """A date-time without an offset is refused rather than guessed."""
    assert _bad({"occurred_at": "2014-01-02T10:00:00"}).field == "occurred_at"


def test_unknown_data_key_is_refused() -> None:
    """A data key the type does not have is refused with a suggestion."""
    error = _bad({"data": {"pages": ["D-1"], "bye": "west"}})
    assert error.field == "data.bye" and "did you mean 'by'" in str(error)


def test_required_data_key_is_enforced() -> None:
    """copy_made requires data.by."""
    assert _bad({"data": {"pages": ["D-1"]}}).field == "data.by"


def test_missing_case_is_refused() -> None:
    """Every event names its case."""
    assert _bad({}, drop="case").field == "case"


def test_bad_json_names_the_line() -> None:
    """A syntax error names the line."""
    with pytest.raises(DataError, match=r"events\.jsonl:1: not valid JSON"):
        parse_events_jsonl("{nope\n", source="events.jsonl")


def test_a_reused_id_for_a_different_event_is_refused() -> None:
    """The same id twice with different content is an error; identical repeats collapse."""
    one = json.dumps(LINE)
    assert len(parse_events_jsonl(one + "\n" + one + "\n", source="x")) == 1
    other = json.dumps({**LINE, "data": {"pages": ["D-2"], "by": "west"}})
    with pytest.raises(DataError, match="line 1"):
        parse_events_jsonl(one + "\n" + other + "\n", source="x")


def test_events_without_ids_get_stable_ones() -> None:
    """Re-parsing the same line without an id yields the same derived id."""
    obj = {k: v for k, v in LINE.items() if k != "id"}
    first = parse_events_jsonl(json.dumps(obj), source="x")[0].id
    assert first == parse_events_jsonl(json.dumps(obj), source="x")[0].id
    assert first.startswith("sha256:")
