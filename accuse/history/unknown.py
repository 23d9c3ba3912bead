"""The unknown messages of the history, grouped by shape, for `accuse catalogue --inconnus`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accuse.history.store import UnknownSighting
from accuse.reference.catalogue import Catalogue
from accuse.reference.harvest import shape


@dataclass(frozen=True)
class UnknownGroup:
    """Messages of one wording (their variable parts aside), over every receipt."""

    shape: str
    example: str  # the variant carried by the most passages (NIR masked)
    variants: int
    passages: int
    receipts: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    last_receipt: str
    family: str | None  # the family that recognises it now (a catalogue added since), or None


def unknown_groups(sightings: list[UnknownSighting], catalogue: Catalogue) -> list[UnknownGroup]:
    """Most passages first; each told whether the current catalogue now recognises it."""
    by_shape: dict[str, list[UnknownSighting]] = {}
    for sighting in sightings:
        by_shape.setdefault(shape(sighting.message), []).append(sighting)
    groups = []
    for key, seen in by_shape.items():
        per_variant: dict[str, int] = {}
        for sighting in seen:
            per_variant[sighting.message] = per_variant.get(sighting.message, 0) + sighting.passages
        example = max(per_variant, key=lambda m: (per_variant[m], m))
        latest = max(seen, key=lambda s: (s.analysed_at, s.receipt_id))
        found = catalogue.classify(example)
        groups.append(
            UnknownGroup(
                shape=key,
                example=example,
                variants=len(per_variant),
                passages=sum(per_variant.values()),
                receipts=len({s.receipt_id for s in seen}),
                first_seen=min(s.analysed_at for s in seen),
                last_seen=latest.analysed_at,
                last_receipt=latest.receipt_name,
                family=None if found.code == "MESSAGE_INCONNU" else found.code,
            )
        )
    return sorted(groups, key=lambda g: (-g.passages, g.shape))
