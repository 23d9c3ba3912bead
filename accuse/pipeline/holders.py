"""Which holders `accuse courriels` asks to check their identity, and about what.

An identity refusal (no holder found in the national register, or several) can only be settled
by the holder, from a civil-status document. From an Analysis this module picks those refusals,
the holder's address in the source row, and the identity lines to show them, as plain data:
only the named identity fields of the row are kept, whatever else the row holds (a NIR, notes).
The e-mails are worded and written by render/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from accuse.cells import is_blank, is_empty
from accuse.errors import InputError
from accuse.model import CellValue, Source, SourceRow
from accuse.pipeline.analysis import Analysis, RejectedRow
from accuse.reference.catalogue import CatalogueEntry
from accuse.reference.fields import field_for_header, row_fields
from accuse.reference.identity import holder_mail_data
from accuse.text import header_key

# Why a holder gets no draft although their refusal is theirs to settle.
Unmailable = Literal[
    "sans_adresse", "plusieurs_adresses", "caracteres_interdits", "adresse_invalide"
]

# A plain address: local part, one @, a domain of dot-separated labels (ASCII). No quantifier
# is nested over an overlapping one, so matching stays linear on any cell.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SEPARATORS = re.compile(r"[,;\s]")
_MAX_ADDRESS = 254  # RFC 5321
_MAX_LOCAL = 64


def check_address(value: CellValue) -> tuple[str | None, Unmailable | None]:
    """The address of a cell when it is one plain address, else why it is not usable.

    Only an address that passes reaches an e-mail header: a line break or a second address in
    the cell never does."""
    if is_empty(value):
        return None, "sans_adresse"
    if not isinstance(value, str):
        return None, "adresse_invalide"
    text = value.strip()
    if _CONTROL.search(text):
        return None, "caracteres_interdits"
    if text.count("@") > 1:
        return None, "plusieurs_adresses"
    if _SEPARATORS.search(text) or len(text) > _MAX_ADDRESS or not _ADDRESS.fullmatch(text):
        return None, "adresse_invalide"
    if len(text.partition("@")[0]) > _MAX_LOCAL:
        return None, "adresse_invalide"
    return text, None


@dataclass(frozen=True)
class IdentityLine:
    """One line of identity shown to the holder: the row's values exactly as deposited."""

    label: str
    keys: tuple[str, ...]
    values: tuple[CellValue, ...]  # one per key; None where the cell is empty or NILL
    meanings: tuple[tuple[str, str], ...]  # coded value -> what it means (sexe)
    separator: str
    concerned: bool  # the refusal's family looks at one of these fields (a code only if filled)
    flagged: bool  # a check of the row points at one of these fields

    @property
    def filled(self) -> bool:
        return any(v is not None for v in self.values)


@dataclass(frozen=True)
class HolderRequest:
    """An identity refusal whose source row was found: whom to ask, and what."""

    idTechnique: str
    position: int  # the source row
    family: CatalogueEntry
    identity: tuple[IdentityLine, ...]
    certification: tuple[CellValue, CellValue]  # the row's type and code
    address: str | None  # the checked address, when there is a usable one
    problem: Unmailable | None  # why there is none
    address_cell: CellValue  # the cell as read, to list an unusable one

    def value(self, key: str) -> CellValue:
        for line in self.identity:
            if key in line.keys:
                return line.values[line.keys.index(key)]
        return None

    @property
    def holder(self) -> tuple[object, ...]:
        """Who the request goes to: one address and one identity as deposited. Two refusals of
        the same holder make one draft; never two people sharing an address."""
        address = self.address.casefold() if self.address is not None else None
        return (address, *(line.values for line in self.identity))


@dataclass(frozen=True)
class OtherRefusal:
    """A rejected passage that is not the holder's to settle, or whose row cannot be trusted."""

    idTechnique: str
    family: CatalogueEntry
    positions: tuple[int, ...] = ()  # the source rows holding this idTechnique


@dataclass
class MailPlan:
    requests: list[HolderRequest] = field(default_factory=list)
    not_holders: list[OtherRefusal] = field(default_factory=list)  # other families
    not_found: list[OtherRefusal] = field(default_factory=list)  # identity, row not found
    ambiguous: list[OtherRefusal] = field(default_factory=list)  # identity, id on several rows
    address_header: str | None = None  # the header of the e-mail column used

    @property
    def drafts(self) -> list[HolderRequest]:
        return [r for r in self.requests if r.address is not None]

    @property
    def holders(self) -> list[tuple[HolderRequest, ...]]:
        """The requests with an address, one group per holder (several refused passages of one
        person), in the order of their first request."""
        groups: dict[tuple[object, ...], list[HolderRequest]] = {}
        for request in self.drafts:
            groups.setdefault(request.holder, []).append(request)
        return [tuple(group) for group in groups.values()]

    @property
    def unmailed(self) -> list[HolderRequest]:
        return [r for r in self.requests if r.address is None]

    @property
    def identity_count(self) -> int:
        return len(self.requests) + len(self.not_found) + len(self.ambiguous)


def address_column(source: Source, wanted: str | None) -> int | None:
    """The column of the holders' e-mail addresses: the one named, else the first whose header
    the dictionary knows as an e-mail column (Courriel, E-mail, Adresse électronique…)."""
    if wanted is not None:
        key = _loose(wanted)
        found = [i for i, h in enumerate(source.headers) if key and _loose(h) == key]
        if not found:
            raise InputError(
                f"aucune colonne « {wanted} » (--colonne-courriel) dans ce fichier. Vérifiez "
                "l'orthographe de l'en-tête, tel qu'il est écrit dans le fichier.",
                source.path,
            )
        return found[0]
    if "courriel" in source.columns:
        return source.columns["courriel"]
    return next(
        (i for i, h in enumerate(source.headers) if field_for_header(h) == "courriel"), None
    )


def _loose(text: str) -> str:
    return header_key(text).replace(".", "")


def plan_mails(analysis: Analysis, address_index: int | None) -> MailPlan:
    """Every rejected passage, sorted: a request to its holder, or why there is none."""
    data = holder_mail_data()
    identity_families = set(data.families)
    source = analysis.source
    plan = MailPlan()
    if source is not None and address_index is not None and address_index < len(source.headers):
        plan.address_header = source.headers[address_index]
    for rejected in analysis.rejected:
        entry = rejected.classification.entry
        positions = tuple(source.positions.get(rejected.idTechnique, ())) if source else ()
        refusal = OtherRefusal(rejected.idTechnique, entry, positions)
        if entry.code not in identity_families:
            plan.not_holders.append(refusal)
        elif rejected.row is None or source is None:
            plan.not_found.append(refusal)
        elif len(positions) > 1:
            # Which of the rows was deposited is unknown: never mail one holder about another.
            plan.ambiguous.append(refusal)
        else:
            plan.requests.append(_request(rejected, rejected.row, source, address_index))
    return plan


def _request(
    rejected: RejectedRow, row: SourceRow, source: Source, address_index: int | None
) -> HolderRequest:
    entry = rejected.classification.entry
    family_fields = set(entry.champs)
    flagged_fields = {f.champ for f in rejected.findings if f.champ}
    lines = []
    specs = holder_mail_data().lines
    fields = row_fields(row.values, source.columns, only=[k for s in specs for k in s.keys])
    for spec in specs:
        values = tuple(_deposited(fields.get(key)) for key in spec.keys)
        filled = any(v is not None for v in values)
        lines.append(
            IdentityLine(
                label=spec.label,
                keys=spec.keys,
                values=values,
                meanings=spec.meanings,
                separator=spec.separator,
                concerned=bool(family_fields.intersection(spec.keys)) and (filled or not spec.code),
                flagged=bool(flagged_fields.intersection(spec.keys)) and (filled or not spec.code),
            )
        )
    cell = row.values[address_index] if address_index is not None else None
    if address_index is not None and address_index >= len(row.values):
        cell = None
    address, problem = check_address(cell)
    return HolderRequest(
        idTechnique=rejected.idTechnique,
        position=row.position,
        family=entry,
        identity=tuple(lines),
        certification=(
            _deposited(source.value(row, "type")),
            _deposited(source.value(row, "code")),
        ),
        address=address,
        problem=problem,
        address_cell=cell,
    )


def _deposited(value: CellValue) -> CellValue:
    """A cell as the portal received it: empty text and NILL are nothing."""
    return None if is_blank(value) else value
