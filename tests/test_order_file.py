"""Order files load strictly: every mistake names file, line and field, with a suggestion."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tipstaff.engine.errors import DataError, InputError
from tipstaff.engine.order import bundled_orders, load_bundled_order, load_order

WEST_TERMS = ["produce-inquiry-report", "produce-critique", "produce-dvd", "notice-of-production",
              "no-sharing", "no-copies", "return-documents", "opposition-deadline"]


def test_both_shipped_orders_load() -> None:
    """West v. Dizon and the model order load and carry a content hash."""
    assert bundled_orders() == ["model-stipulated-protective-order", "west-v-dizon"]
    for order_id in bundled_orders():
        order = load_bundled_order(order_id)
        assert len(order.sha256) == 64 and order.terms


def test_west_has_every_contract_term_id() -> None:
    """The eight term ids of the issue exist, in order."""
    assert [t.id for t in load_bundled_order("west-v-dizon").terms] == WEST_TERMS


def test_west_returnable_pages_exclude_the_withheld_ones() -> None:
    """The pages to come back are D-1..D-41 less D-29 and D-38."""
    order = load_bundled_order("west-v-dizon")
    pages = order.scope_pages(order.term("return-documents"))
    assert len(pages) == 39
    assert "D-29" not in pages and "D-38" not in pages and "D-41" in pages


def test_west_records_the_redactions_and_the_dvd() -> None:
    """D-19 (section), D-20 (sentence), D-41 (lines 4-6) are redacted; the DVD goes to the
    litigation coordinator."""
    order = load_bundled_order("west-v-dizon")
    critique = order.documents["critique"]
    assert [(r.page, r.extent) for r in critique.redactions] == [
        ("D-19", "section"), ("D-20", "sentence"), ("D-41", "lines")]
    assert order.documents["dvd"].deliver_to == "litigation-coordinator"


def test_every_west_citation_quotes_the_order_verbatim() -> None:
    """Each term's citation text appears word for word in the order's text."""
    source = Path(__file__).resolve().parents[2] / "shared" / "orders" / \
        "west-v-dizon-2013-11-04-order.txt"
    if not source.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have shared/ beside the checkout")
        pytest.skip("shared/orders is not beside this checkout")
    text = " ".join(source.read_text().split())
    order = load_bundled_order("west-v-dizon")
    for term in order.terms:
        quoted = " ".join(term.citation.text.split())
        for sentence in quoted.replace("Bates p.", "\n").split("\n"):
            assert sentence.strip(" .") in text, (term.id, sentence)


def _west_text() -> str:
    path = Path(__file__).resolve().parents[1] / "rules" / "orders" / "west-v-dizon.yaml"
    return path.read_text()


def _load_variant(tmp_path: Path, old: str, new: str) -> DataError:
    text = _west_text()
    assert old in text, old
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError) as caught:
        load_order(path)
    return caught.value


def _line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1


def test_unknown_key_names_its_line_and_suggests(tmp_path: Path) -> None:
    """A misspelt key is refused with its line and a did-you-mean."""
    error = _load_variant(tmp_path, "    bearer: west\n", "    bearer: west\n    bearr: west\n")
    assert "did you mean 'bearer'" in str(error)
    assert error.line == _line_of(_west_text(), "    bearer: west") + 1


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    """A key given twice in one mapping is refused with both lines."""
    error = _load_variant(tmp_path, "  number: \"2:12-cv-1293 DAD\"\n",
                          "  number: \"2:12-cv-1293 DAD\"\n  number: \"x\"\n")
    assert "duplicate key" in str(error) and error.field == "number"


def test_bad_date_is_refused(tmp_path: Path) -> None:
    """An impossible date names its field."""
    error = _load_variant(tmp_path, 'on: "2013-11-14"', 'on: "2013-11-31"')
    assert "real date" in str(error) and error.field == "on"


def test_undefined_document_set_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    """A term scope naming an unknown set gets did-you-mean."""
    error = _load_variant(tmp_path, "scope: [critique]", "scope: [critiqe]")
    assert "unknown document set 'critiqe'" in str(error)
    assert "did you mean 'critique'" in str(error)
    assert error.line == _line_of(_west_text(), "scope: [critique]")


def test_undefined_party_is_refused(tmp_path: Path) -> None:
    """A bearer that is not a party is refused."""
    error = _load_variant(tmp_path, "bearer: west\n", "bearer: wset\n")
    assert "unknown party 'wset'" in str(error) and "did you mean 'west'" in str(error)


def test_undefined_term_in_an_anchor_is_refused(tmp_path: Path) -> None:
    """An anchor naming an unknown term is refused."""
    error = _load_variant(tmp_path, "- {term: produce-dvd}", "- {term: produce-dvds}")
    assert "unknown term 'produce-dvds'" in str(error)


def test_unknown_event_type_is_refused(tmp_path: Path) -> None:
    """A matcher on an unknown event type is refused with a suggestion."""
    error = _load_variant(tmp_path, "event: copy_made", "event: copy_maed")
    assert "did you mean 'copy_made'" in str(error)


def test_unknown_court_is_refused(tmp_path: Path) -> None:
    """The court must be a known calendar id."""
    error = _load_variant(tmp_path, "court: ed-cal", "court: ed-cali")
    assert "unknown court 'ed-cali'" in str(error)


def test_withheld_pages_must_be_in_the_set(tmp_path: Path) -> None:
    """A withheld page outside the ranges is refused."""
    error = _load_variant(tmp_path, 'withheld: ["D-29", "D-38"]', 'withheld: ["D-29", "D-58"]')
    assert "D-58" in str(error)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """Loading a file that does not exist says so."""
    with pytest.raises(InputError, match="no such file"):
        load_order(tmp_path / "nope.yaml")
