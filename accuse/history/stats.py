"""`accuse suivi --stats`: how often deposits are refused, per receipt, per family of refusal and
per certification, and which way it goes from one deposit to the next.

Computed with pandas from the history alone. pandas is imported inside these functions only, so
`accuse --help`, `accuse analyse` and the plain `accuse suivi` never load it.

A rate is always rejections over the passages deposited (accepted + rejected) in receipts that
judged passages one by one: a receipt rejecting the whole file recorded no passage and is
counted apart. For a certification, the rate is its rejections over every deposited passage,
because the history keeps the certification code of rejected passages only (the source is read
for them alone). A trend is the least-squares slope of a rate over the deposits, in the receipts'
own date order (the date in the portal's file name, else the analysis day, as `accuse suivi`
orders them; not the order they were analysed in): the change of the rate from one deposit to
the next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from accuse.history.store import History
from accuse.history.tracking import in_date_order, receipt_date

if TYPE_CHECKING:
    import pandas as pd

STABLE_BELOW = 0.005  # a trend under half a point per deposit either way is "stable"
Direction = Literal["hausse", "baisse", "stable"]


@dataclass(frozen=True)
class ReceiptRate:
    """One recorded receipt and its rejection rate."""

    receipt_name: str
    received_on: dt.date  # the receipt's own date: the one in its file name, else analysed_at's
    analysed_at: dt.datetime
    whole_file: bool  # the whole file was rejected: no passage, no rate
    deposited: int  # accepted + rejected passages
    rejected: int
    rate: float | None  # rejected / deposited
    change: float | None  # this rate minus the previous deposit's


@dataclass(frozen=True)
class GroupRate:
    """The rejections of one family (or one certification) across the deposits."""

    key: str  # family code, or certification code ("" when unknown)
    label: str  # family title, or the certification code
    rejected: int
    share: float  # of all rejections
    rate: float  # of all deposited passages
    trend: float | None  # rate change per deposit; None with fewer than two deposits


@dataclass(frozen=True)
class Stats:
    location: str
    receipts: list[ReceiptRate]  # oldest first, by the receipt's own date
    families: list[GroupRate]  # most rejections first
    certifications: list[GroupRate]
    deposited: int  # over the receipts that judged passages one by one
    rejected: int
    trend: float | None
    made_at: dt.datetime

    @property
    def rate(self) -> float | None:
        return self.rejected / self.deposited if self.deposited else None

    @property
    def judged(self) -> list[ReceiptRate]:
        return [r for r in self.receipts if not r.whole_file]

    @property
    def whole_file(self) -> int:
        return sum(1 for r in self.receipts if r.whole_file)


def direction(trend: float | None) -> Direction | None:
    if trend is None:
        return None
    if abs(trend) < STABLE_BELOW:
        return "stable"
    return "hausse" if trend > 0 else "baisse"


def _slope(values: pd.Series) -> float | None:
    """Least-squares slope of the finite values against their deposit number."""
    import numpy as np

    y = values.to_numpy(dtype=float)
    x = np.arange(len(y), dtype=float)
    known = np.isfinite(y)
    if known.sum() < 2:
        return None
    return float(np.polyfit(x[known], y[known], 1)[0])


def _groups(
    rejections: pd.DataFrame, column: str, deposited: pd.Series, labels: dict[str, str]
) -> list[GroupRate]:
    """Rejections per value of ``column``: count, share, rate and trend over the deposits."""
    if rejections.empty:
        return []
    # receipts x groups: rejections of each group in each deposit, then as rates of the deposit
    counts = (rejections.groupby(["receipt_id", column]).size().unstack(fill_value=0)).reindex(
        deposited.index, fill_value=0
    )
    rates = counts.div(deposited, axis=0)
    totals = counts.sum()
    total_deposited = int(deposited.sum())
    groups = [
        GroupRate(
            key=str(key),
            label=labels.get(str(key), str(key)),
            rejected=int(count),
            share=float(count) / float(totals.sum()),
            rate=float(count) / total_deposited,
            trend=_slope(rates[key]),
        )
        for key, count in totals.items()
    ]
    groups.sort(key=lambda g: (-g.rejected, g.key))
    return groups


def compute_stats(history: History) -> Stats:
    """The rates of a history loaded with or without every passage (only rejections count)."""
    import pandas as pd

    ordered = in_date_order(history.receipts)  # every rate, change and trend follows this order
    receipts = pd.DataFrame(
        {
            "receipt_id": [r.id for r in ordered],
            "rejected": [r.rejected_count for r in ordered],
            "deposited": [r.accepted_count + r.rejected_count for r in ordered],
            "whole_file": [r.shape == "rejet_fichier" for r in ordered],
        }
    ).set_index("receipt_id")
    judged = receipts[~receipts["whole_file"] & (receipts["deposited"] > 0)]
    rates = judged["rejected"] / judged["deposited"]
    changes = rates.diff()
    listed = [
        ReceiptRate(
            receipt_name=r.receipt_name,
            received_on=receipt_date(r),
            analysed_at=r.analysed_at,
            whole_file=r.shape == "rejet_fichier",
            deposited=r.accepted_count + r.rejected_count,
            rejected=r.rejected_count,
            rate=float(rates[r.id]) if r.id in rates.index else None,
            change=float(changes[r.id])
            if r.id in changes.index and pd.notna(changes[r.id])
            else None,
        )
        for r in ordered
    ]
    passages = history.to_dataframe()
    rejections = passages[
        (passages["status"] == "KO") & passages["receipt_id"].isin(judged.index)
    ].copy()
    rejections["code"] = rejections["code"].fillna("")
    latest = rejections.dropna(subset=["family_title"]).drop_duplicates("family", keep="last")
    titles = {
        str(family): str(title)
        for family, title in zip(latest["family"], latest["family_title"], strict=True)
    }
    deposited = judged["deposited"]
    return Stats(
        location=history.location,
        receipts=listed,
        families=_groups(rejections, "family", deposited, titles),
        certifications=_groups(rejections, "code", deposited, {}),
        deposited=int(deposited.sum()),
        rejected=int(judged["rejected"].sum()),
        trend=_slope(rates),
        made_at=dt.datetime.now().astimezone(),
    )
