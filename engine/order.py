"""The order model: a court order as data a paralegal can read and a lawyer can check.

An order file (``rules/orders/*.yaml``, schema ``rules/order.schema.json``) holds the case,
the order, its document sets, named definitions (anchors such as "final disposition"), its
terms and its rulings. Loading is strict: the JSON Schema first, then the references (a
term naming an unknown document set, party, term, definition or event type), each error
naming file, line and field with a "did you mean".

Anchors (when a period starts) are small trees::

    {event: judgment_entered, where: {...}}      first matching event (withdrawals honoured)
    {term: produce-critique}                     the day another term was performed
    {later_of: [anchor, ...]} / {earlier_of: [...]}
    {definition: final-disposition}              a named anchor of this order
    {appeal_disposition: {reading: B}}           final disposition of an appeal (A/B/C)
    {order_entered: true}                        the day the order was entered
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from tipstaff.engine import bates
from tipstaff.engine import datafile as df
from tipstaff.engine.calendar import list_courts
from tipstaff.engine.datafile import Node
from tipstaff.engine.errors import DataError, InputError
from tipstaff.engine.events import EVENT_TYPES

TERM_KINDS = ("prohibition", "obligation", "filing_deadline", "condition")
Anchor = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a term comes from, with the order's own words."""

    order: str
    paragraph: str
    page: str | None
    lines: str | None
    text: str

    def label(self) -> str:
        """``Order ¶ 4(3), p. 5:1-4``."""
        where = f", p. {self.page}" if self.page else ""
        where += f":{self.lines}" if self.lines and self.page else ""
        return f"{self.order} ¶ {self.paragraph}{where}"


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    name: str
    roles: tuple[str, ...]
    represents: str | None
    contact: str | None


@dataclass(frozen=True, slots=True)
class Redaction:
    page: str
    extent: str  # "section" | "sentence" | "lines" | "page"
    description: str


@dataclass(frozen=True, slots=True)
class DocumentSet:
    """Bates ranges (less withheld pages), redactions, physical items, a designation tier."""

    id: str
    title: str
    bates: tuple[str, ...]
    withheld: tuple[str, ...]
    redactions: tuple[Redaction, ...]
    items: tuple[str, ...]
    tier: str | None
    deliver_to: str | None

    def all_pages(self) -> frozenset[str]:
        return bates.pages(self.bates)

    def produced_pages(self) -> frozenset[str]:
        """The pages to be produced: every page of the ranges that is not withheld."""
        return self.all_pages() - bates.pages(self.withheld)


@dataclass(frozen=True, slots=True)
class Tier:
    id: str
    label: str
    may_see: tuple[str, ...]  # party roles


@dataclass(frozen=True, slots=True)
class Matcher:
    """Which events satisfy or violate a term.

    ``where``: equalities on ``data`` keys (a list means "one of"); ``where_not``: values
    excluded; ``covers``: the matching events together must name every page and item of the
    term's scope (``scope``) or of the triggering event (``trigger``); ``unless_prior``: the
    event does not count when an earlier event of that type matches (``same`` maps the
    earlier event's key to this event's key); ``outside_tier``: counts only when the
    recipient's role may not see the tier of the pages shared.
    """

    event: str
    where: Mapping[str, Any]
    where_not: Mapping[str, Any]
    covers: str | None
    unless_prior: Mapping[str, Any] | None
    outside_tier: bool


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """``within`` N units ``after`` an anchor, or a fixed date ``on``."""

    amount: int | None
    unit: str | None
    after: Anchor | None
    on: dt.date | None
    service: str
    adopted_for: str | None  # "immediately" / "promptly": the operator's adopted period
    adopted_note: str | None


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    kind: str
    bearer: str
    action: str
    scope: tuple[str, ...]
    deadline: DeadlineSpec | None
    satisfied_by: tuple[Matcher, ...]
    violated_by: tuple[Matcher, ...]
    active_from: Anchor | None
    active_until: DeadlineSpec | None
    citation: Citation
    notes: str


@dataclass(frozen=True, slots=True)
class Ruling:
    """Something the order decides that creates no obligation (e.g. a motion denied)."""

    id: str
    text: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class Order:
    """One loaded order file."""

    id: str  # the case id the file opens
    court: str
    case_number: str
    caption: str
    parties: Mapping[str, Party]
    title: str
    entered: dt.date
    judge: str
    docket: str | None
    documents: Mapping[str, DocumentSet]
    tiers: Mapping[str, Tier]
    definitions: Mapping[str, Anchor]
    terms: tuple[Term, ...]
    rulings: tuple[Ruling, ...]
    source: str
    sha256: str
    version: int

    def term(self, term_id: str) -> Term:
        for term in self.terms:
            if term.id == term_id:
                return term
        raise InputError(f"order {self.id} has no term {term_id!r}"
                         f"{df.suggest(term_id, [t.id for t in self.terms])}")

    def scope_pages(self, term: Term) -> frozenset[str]:
        """Every page a term's scope covers (produced pages, withheld ones excluded)."""
        found: set[str] = set()
        for set_id in term.scope:
            found |= self.documents[set_id].produced_pages()
        return frozenset(found)

    def scope_items(self, term: Term) -> frozenset[str]:
        return frozenset(item for set_id in term.scope for item in self.documents[set_id].items)

def _schema() -> dict[str, Any]:
    text = resources.files("tipstaff.rules").joinpath("order.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _node_at(root: Node, path: list[str | int]) -> tuple[Node, str | None]:
    """The innermost mapping on ``path`` and the key within it (for line numbers)."""
    node: Any = root
    holder, key = root, None
    for step in path:
        if isinstance(node, Node) and isinstance(step, str):
            holder, key = node, step
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            if isinstance(node, Node):
                holder, key = node, None
        else:
            break
    return holder, key


def _schema_errors(root: Node, source: str) -> None:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(root), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    error = min(errors, key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    path = list(error.absolute_path)
    holder, key = _node_at(root, path)
    field = ".".join(str(p) for p in path) or None
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in allowed]
        if extra and isinstance(error.instance, Node):
            holder, key = error.instance, extra[0]
            field = ".".join([*(str(p) for p in path), extra[0]])
            message = (f"unknown key{df.suggest(extra[0], allowed)}; expected one of "
                       f"{', '.join(sorted(allowed))}")
    line = df.line_of(holder, key) if key else holder.line
    raise DataError(message, file=source, line=line, field=field)


def load_order_text(text: str, *, source: str) -> Order:
    """Parse and validate an order file's text."""
    root = df.load_yaml(text, source=source)
    if not isinstance(root, Node):
        raise DataError("an order file must be a mapping", file=source, line=1)
    _schema_errors(root, source)
    return _build(root, source, hashlib.sha256(text.encode()).hexdigest())


def load_order(path: str | Path) -> Order:
    """Load an order file from disk (a missing file is a clear error)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read: {exc}") from None
    return load_order_text(text, source=str(file))


def bundled_orders() -> list[str]:
    """Ids of the orders shipped in ``tipstaff.rules/orders``."""
    folder = resources.files("tipstaff.rules").joinpath("orders")
    return sorted(item.name.removesuffix(".yaml") for item in folder.iterdir()
                  if item.name.endswith(".yaml") and not item.name.endswith(".scenarios.yaml"))


def load_bundled_order(order_id: str) -> Order:
    """A shipped order by id (e.g. ``west-v-dizon``)."""
    known = bundled_orders()
    if order_id not in known:
        raise InputError(f"no bundled order {order_id!r}{df.suggest(order_id, known)}")
    item = resources.files("tipstaff.rules").joinpath("orders", f"{order_id}.yaml")
    return load_order_text(item.read_text(), source=f"rules/orders/{order_id}.yaml")


class _Refs:
    """Reference checks with line numbers and suggestions."""

    def __init__(self, root: Node) -> None:
        self.parties = set(root["case"]["parties"])
        self.documents = set(root.get("documents") or {})
        self.tiers = set(root.get("tiers") or {})
        self.definitions = set(root.get("definitions") or {})
        self.terms = {t["id"] for t in root["terms"]}

    @staticmethod
    def check(node: Node, key: str, value: str, known: set[str], what: str) -> None:
        if value not in known:
            raise df.error(node, key, f"unknown {what} {value!r}{df.suggest(value, known)}")

    def anchor(self, node: Node, key: str, anchor: Any) -> None:
        if not isinstance(anchor, Node):
            raise df.error(node, key, "expected an anchor mapping")
        if "event" in anchor:
            self.check(anchor, "event", anchor["event"], set(EVENT_TYPES), "event type")
        if "term" in anchor:
            self.check(anchor, "term", anchor["term"], self.terms, "term")
        if "definition" in anchor:
            self.check(anchor, "definition", anchor["definition"], self.definitions,
                       "definition")
        for combinator in ("later_of", "earlier_of"):
            for part in anchor.get(combinator, []):
                self.anchor(anchor, combinator, part)

    def matcher(self, node: Node, key: str, item: Node) -> None:
        self.check(item, "event", item["event"], set(EVENT_TYPES), "event type")
        allowed = set(EVENT_TYPES[item["event"]])
        for field_key in ("where", "where_not"):
            where = item.get(field_key) or Node()
            for name in where:
                self.check(where, name, name, allowed, f"data key of {item['event']}")
        prior = item.get("unless_prior")
        if prior is not None:
            self.check(prior, "event", prior["event"], set(EVENT_TYPES), "event type")
            for theirs, ours in (prior.get("same") or {}).items():
                self.check(prior["same"], theirs, theirs, set(EVENT_TYPES[prior["event"]]),
                           f"data key of {prior['event']}")
                self.check(prior["same"], theirs, ours, allowed, f"data key of {item['event']}")


def _citation(node: Node) -> Citation:
    return Citation(order=node["order"], paragraph=str(node["paragraph"]),
                    page=str(node["page"]) if node.get("page") is not None else None,
                    lines=str(node["lines"]) if node.get("lines") is not None else None,
                    text=node["text"].strip())


def _deadline(node: Node, key: str, refs: _Refs) -> DeadlineSpec:
    spec = node[key]
    on = df.date_value(spec, "on") if "on" in spec else None
    amount = unit = None
    if "within" in spec:
        within = spec["within"]
        unit = next(iter(within))
        amount = int(within[unit])
    if "after" in spec:
        refs.anchor(spec, "after", spec["after"])
    adopted = spec.get("adopted")
    return DeadlineSpec(amount=amount, unit=unit, after=spec.get("after"), on=on,
                        service=spec.get("service", "none"),
                        adopted_for=adopted["for"] if adopted else None,
                        adopted_note=adopted["note"].strip() if adopted else None)


def _matchers(node: Node, key: str, refs: _Refs) -> tuple[Matcher, ...]:
    found = []
    for item in node.get(key) or []:
        refs.matcher(node, key, item)
        found.append(Matcher(event=item["event"], where=dict(item.get("where") or {}),
                             where_not=dict(item.get("where_not") or {}),
                             covers=item.get("covers"),
                             unless_prior=item.get("unless_prior"),
                             outside_tier=bool(item.get("outside_tier", False))))
    return tuple(found)


def _build(root: Node, source: str, sha256: str) -> Order:
    refs = _Refs(root)
    case = root["case"]
    refs.check(case, "court", case["court"], set(list_courts()), "court")
    parties = {}
    for party_id, p in case["parties"].items():
        if p.get("represents") is not None:
            refs.check(p, "represents", p["represents"], refs.parties, "party")
        parties[party_id] = Party(id=party_id, name=p["name"], roles=tuple(p["roles"]),
                                  represents=p.get("represents"), contact=p.get("contact"))
    tiers = {tier_id: Tier(id=tier_id, label=t["label"], may_see=tuple(t["may_see"]))
             for tier_id, t in (root.get("tiers") or {}).items()}
    documents = {}
    for set_id, d in (root.get("documents") or {}).items():
        try:
            ranges = bates.pages(d.get("bates", []))
            withheld = bates.pages(d.get("withheld", []))
        except InputError as exc:
            raise df.error(d, "bates", str(exc)) from None
        if not withheld <= ranges:
            raise df.error(d, "withheld", "withheld pages must lie within the set's bates "
                                          f"ranges: {', '.join(bates.render(withheld - ranges))}")
        if d.get("tier") is not None:
            refs.check(d, "tier", d["tier"], refs.tiers, "tier")
        if d.get("deliver_to") is not None:
            refs.check(d, "deliver_to", d["deliver_to"], refs.parties, "party")
        redactions = []
        for r in d.get("redactions", []):
            if r["page"] not in ranges:
                raise df.error(r, "page", f"redacted page {r['page']} is not in the set")
            redactions.append(Redaction(page=r["page"], extent=r["extent"],
                                        description=r["description"]))
        documents[set_id] = DocumentSet(
            id=set_id, title=d["title"], bates=tuple(d.get("bates", [])),
            withheld=tuple(d.get("withheld", [])), redactions=tuple(redactions),
            items=tuple(d.get("items", [])), tier=d.get("tier"), deliver_to=d.get("deliver_to"))
    definitions = dict(root.get("definitions") or {})
    for name, anchor in definitions.items():
        refs.anchor(root["definitions"], name, anchor)
    terms = []
    seen: set[str] = set()
    for t in root["terms"]:
        if t["id"] in seen:
            raise df.error(t, "id", f"duplicate term id {t['id']!r}")
        seen.add(t["id"])
        refs.check(t, "bearer", t["bearer"], refs.parties, "party")
        for set_id in t.get("scope", []):
            refs.check(t, "scope", set_id, refs.documents, "document set")
        if t.get("active_from") is not None:
            refs.anchor(t, "active_from", t["active_from"])
        deadline = _deadline(t, "deadline", refs) if "deadline" in t else None
        if t["kind"] in ("obligation", "filing_deadline") and not t.get("satisfied_by"):
            raise df.error(t, "kind", f"a {t['kind']} needs satisfied_by")
        if t["kind"] in ("prohibition", "condition") and not t.get("violated_by"):
            raise df.error(t, "kind", f"a {t['kind']} needs violated_by")
        terms.append(Term(
            id=t["id"], kind=t["kind"], bearer=t["bearer"], action=t["action"].strip(),
            scope=tuple(t.get("scope", [])), deadline=deadline,
            satisfied_by=_matchers(t, "satisfied_by", refs),
            violated_by=_matchers(t, "violated_by", refs),
            active_from=t.get("active_from"),
            active_until=_deadline(t, "active_until", refs) if "active_until" in t else None,
            citation=_citation(t["citation"]), notes=(t.get("notes") or "").strip()))
    rulings = tuple(Ruling(id=r["id"], text=r["text"].strip(), citation=_citation(r["citation"]))
                    for r in root.get("rulings") or [])
    order = root["order"]
    return Order(
        id=root["id"], court=case["court"], case_number=case["number"], caption=case["caption"],
        parties=parties, title=order["title"], entered=df.date_value(order, "entered"),
        judge=order["judge"], docket=order.get("docket"), documents=documents, tiers=tiers,
        definitions=definitions, terms=tuple(terms), rulings=rulings, source=source,
        sha256=sha256, version=int(root.get("version", 1)))
