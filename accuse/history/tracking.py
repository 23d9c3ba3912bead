"""What is still rejected across every recorded receipt, and the legal deadline (computation only;
the sentences, JSON document and workbook of `accuse suivi` are in accuse.render.suivi).

Computed from the history alone (no input file is re-read). A passage's state is the one of the
latest receipt that mentions it, in the receipts' own date order (the date the portal puts in the
receipt's file name, else the day it was analysed), so analysing an old receipt after a newer one
changes nothing: accepted there (or a DOUBLON, which says the portal already holds it) means
resolved; rejected there means still to do.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from accuse.cells import as_date
from accuse.history.records import EventRow, RecordedReceipt, TrackedEvents, quick_events
from accuse.read.receipt import name_date

if TYPE_CHECKING:
    from accuse.history.store import History, Location
    from accuse.pipeline.analysis import Analysis, EarlierRefusal

FORMAT_VERSION = 1
DOUBLON = "DOUBLON"
DEADLINE_MONTHS = 3  # data must reach the portal within three months of the certification
SOON_DAYS = 30
REPEAT_THRESHOLD = 2  # rejected in this many deposits or more: the CDC's special procedure

Urgency = Literal["depassee", "sous_30_jours", "plus_tard", "inconnue"]
_URGENCY_ORDER: dict[Urgency, int] = {
    "depassee": 0,
    "sous_30_jours": 1,
    "plus_tard": 2,
    "inconnue": 3,
}


@dataclass(frozen=True)
class TrackedPassage:
    """A passage rejected in the latest receipt that mentions it."""

    idTechnique: str
    nomNaissance: str | None
    prenom1: str | None
    code: str | None  # certification code, from the source
    family: str
    family_title: str
    message: str
    rejected_deposits: int
    first_rejected: dt.date
    last_rejected: dt.date
    receipts: tuple[str, ...]  # names of the receipts that rejected it, oldest first
    dateDebutValidite: dt.date | None
    deadline: dt.date | None
    days_left: int | None
    urgency: Urgency

    @property
    def holder(self) -> str:
        return " ".join(p for p in (self.nomNaissance, self.prenom1) if p)

    @property
    def repeated(self) -> bool:
        return self.rejected_deposits >= REPEAT_THRESHOLD


@dataclass(frozen=True)
class ResolvedPassage:
    """A passage rejected once, accepted (or found already stored) in a later receipt."""

    idTechnique: str
    nomNaissance: str | None
    prenom1: str | None
    rejected_deposits: int
    last_rejected: dt.date
    accepted_on: dt.date
    as_doublon: bool

    @property
    def holder(self) -> str:
        return " ".join(p for p in (self.nomNaissance, self.prenom1) if p)


@dataclass(frozen=True)
class Tracking:
    location: str
    today: dt.date
    receipts: list[RecordedReceipt]  # oldest first, by their own date (receipt_date)
    still_rejected: list[TrackedPassage]  # most urgent first
    resolved: list[ResolvedPassage]
    # Passages a SUPPRESSION flux withdrew, as its receipt said (most recent first).
    withdrawn: list[WithdrawnPassage] = field(default_factory=list)

    def count(self, urgency: Urgency) -> int:
        return sum(1 for p in self.still_rejected if p.urgency == urgency)

    @property
    def repeated(self) -> list[TrackedPassage]:
        return [p for p in self.still_rejected if p.repeated]


@dataclass(frozen=True)
class WithdrawnPassage:
    idTechnique: str
    withdrawn_on: dt.date
    receipt_id: int
    receipt_name: str


def receipt_date(receipt: RecordedReceipt) -> dt.date:
    """The receipt's own date: the one in its file name, else the day it was analysed."""
    return name_date(receipt.receipt_name) or receipt.analysed_at.date()


def in_date_order(receipts: Sequence[RecordedReceipt]) -> list[RecordedReceipt]:
    """Oldest receipt first; receipts of the same day in the order they were analysed."""
    return sorted(receipts, key=lambda r: (receipt_date(r), r.analysed_at, r.id))


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, or the month's last day (30 November for 31 August)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline(issued: dt.date) -> dt.date:
    return add_months(issued, DEADLINE_MONTHS)


def urgency(days_left: int | None) -> Urgency:
    if days_left is None:
        return "inconnue"
    if days_left < 0:
        return "depassee"
    return "sous_30_jours" if days_left <= SOON_DAYS else "plus_tard"


# Positions in an EventRow (PassageEvent's fields, in order).
_RECEIPT: Final = 0
_ID: Final = 1
_STATUS: Final = 2
_FAMILY: Final = 3
_TITLE: Final = 4
_MESSAGE: Final = 5
_NOM: Final = 6
_PRENOM: Final = 7
_CODE: Final = 8
_DATE: Final = 9


def _latest_of(events: Sequence[EventRow], position: int) -> Any:
    """The most recent value a receipt analysed with a source gave for this field."""
    for event in reversed(events):
        value = event[position]
        if value is not None:
            return value
    return None


def compute(history: History, today: dt.date | None = None) -> Tracking:
    return compute_events(_events_of(history), today)


def _events_of(history: History) -> TrackedEvents:
    events: list[EventRow] = [
        (
            e.receipt_id,
            e.idTechnique,
            e.status,
            e.family,
            e.family_title,
            e.message,
            e.nomNaissance,
            e.prenom1,
            e.code,
            e.dateDebutValidite,
        )
        for e in history.events
    ]
    return TrackedEvents(history.location, history.receipts, events, history.withdrawals)


def track(location: str | Path | Location | None = None, today: dt.date | None = None) -> Tracking:
    """compute(load(location)), reading only what the tracking needs (load_events; a SQLite
    file given by its path is read without loading SQLAlchemy: records.quick_events)."""
    events = None
    if location is None or isinstance(location, str | Path):
        events = quick_events(location)
    if events is None:
        from accuse.history.store import load_events

        events = load_events(location)
    return compute_events(events, today)


def compute_events(history: TrackedEvents, today: dt.date | None = None) -> Tracking:
    today = today or dt.date.today()
    ordered_receipts = in_date_order(history.receipts)
    receipts = {r.id: r for r in ordered_receipts}
    rank = {r.id: index for index, r in enumerate(ordered_receipts)}
    days = [receipt_date(r) for r in ordered_receipts]
    names = [r.receipt_name for r in ordered_receipts]

    # Each passage's mentions, oldest receipt first (a mention of no recorded receipt is left).
    by_id: dict[str, list[EventRow]] = {}
    for event in sorted(history.events, key=lambda e: rank.get(e[_RECEIPT], -1)):
        if event[_RECEIPT] not in rank:
            continue
        found = by_id.get(event[_ID])
        if found is None:
            by_id[event[_ID]] = [event]
        else:
            found.append(event)

    still: list[TrackedPassage] = []
    resolved: list[ResolvedPassage] = []
    for identifier, events in by_id.items():
        rejections = [
            rank[e[_RECEIPT]] for e in events if e[_STATUS] != "OK" and e[_FAMILY] != DOUBLON
        ]
        if not rejections:
            continue  # only ever a DOUBLON: the portal holds it, nothing was ever to do
        last = events[-1]
        nom = _latest_of(events, _NOM)
        prenom = _latest_of(events, _PRENOM)
        if last[_STATUS] == "OK" or last[_FAMILY] == DOUBLON:
            resolved.append(
                ResolvedPassage(
                    idTechnique=identifier,
                    nomNaissance=nom,
                    prenom1=prenom,
                    rejected_deposits=len(rejections),
                    last_rejected=days[rejections[-1]],
                    accepted_on=days[rank[last[_RECEIPT]]],
                    as_doublon=last[_STATUS] == "KO",
                )
            )
            continue
        issued = history.day(_latest_of(events, _DATE))
        due = deadline(issued) if issued is not None else None
        left = (due - today).days if due is not None else None
        still.append(
            TrackedPassage(
                idTechnique=identifier,
                nomNaissance=nom,
                prenom1=prenom,
                code=_latest_of(events, _CODE),
                family=last[_FAMILY] or "",
                family_title=last[_TITLE] or last[_FAMILY] or "",
                message=last[_MESSAGE] or "",
                rejected_deposits=len(rejections),
                first_rejected=days[rejections[0]],
                last_rejected=days[rejections[-1]],
                receipts=tuple(names[r] for r in rejections),
                dateDebutValidite=issued,
                deadline=due,
                days_left=left,
                urgency=urgency(left),
            )
        )
    still.sort(
        key=lambda p: (
            _URGENCY_ORDER[p.urgency],
            p.days_left if p.days_left is not None else 0,
            p.idTechnique,
        )
    )
    resolved.sort(key=lambda p: (p.accepted_on, p.idTechnique), reverse=True)
    withdrawn = [
        WithdrawnPassage(
            w.idTechnique,
            receipt_date(receipts[w.receipt_id]),
            w.receipt_id,
            receipts[w.receipt_id].receipt_name,
        )
        for w in history.withdrawals
        if w.status == "OK" and w.receipt_id in receipts
    ]
    withdrawn.sort(key=lambda p: (p.receipt_id, p.idTechnique), reverse=True)
    return Tracking(history.location, today, ordered_receipts, still, resolved, withdrawn)


# --- sentences ----------------------------------------------------------------------------


def earlier_refusals(
    history: History, analysis: Analysis, same_receipt: int | None = None
) -> dict[str, EarlierRefusal]:
    """The passages this analysis finds rejected that receipts of the history dated up to this
    one had already rejected (``same_receipt``: this receipt's own id, if recorded)."""
    return earlier_refusals_in(_events_of(history), analysis, same_receipt)


def earlier_refusals_in(
    history: TrackedEvents, analysis: Analysis, same_receipt: int | None = None
) -> dict[str, EarlierRefusal]:
    """earlier_refusals from the rows load_events reads (its rejections are enough)."""
    from accuse.pipeline.analysis import EarlierRefusal

    day = name_date(analysis.receipt.path.name) or analysis.analysed_at.date()
    before = {r.id: receipt_date(r) for r in history.receipts if r.id != same_receipt}
    before = {i: d for i, d in before.items() if d <= day}
    rows = {r.idTechnique: r for r in analysis.rejected if r.fixable}
    found: dict[str, list[EventRow]] = {}
    for event in history.events:
        if (
            event[_RECEIPT] in before
            and event[_ID] in rows
            and event[_STATUS] != "OK"
            and event[_FAMILY] != DOUBLON
        ):
            found.setdefault(event[_ID], []).append(event)
    earlier: dict[str, EarlierRefusal] = {}
    for identifier, events in found.items():
        events.sort(key=lambda e: e[_RECEIPT])  # the latest value: the last recorded
        row = rows[identifier].row
        issued = None
        if row is not None and analysis.source is not None:
            issued = as_date(analysis.source.value(row, "dateDebutValidite"))
        issued = issued or history.day(_latest_of(events, _DATE))
        earlier[identifier] = EarlierRefusal(
            deposits=len({e[_RECEIPT] for e in events}),
            first=min(before[e[_RECEIPT]] for e in events),
            deadline=deadline(issued) if issued is not None else None,
        )
    return earlier
