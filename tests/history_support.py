"""Helpers of the history and tracking tests.

Receipts and csv sources are written small into tmp_path and analysed by the real pipeline.
Worker functions live here so that spawned processes can import them.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from accuse.pipeline.analysis import Analysis, analyse

MESSAGES = {
    "N1": "Aucun titulaire ne correspond aux critères obligatoires",
    "N2": "Aucun titulaire ne correspond aux critères obligatoires enrichis du jour et du mois de naissance",
    "DATES": "La date de fin de validité est inférieure à date de début de validité pour le passage certification avec le bcr émetteur 03VML243 et l'id technique partenaire {id}",
    "DOUBLON": "Le passage certification avec le bcr émetteur 03VML243 et l'id technique partenaire {id} existe déjà en base",
    # A wording no family knows, naming a NIR (the history must keep it masked).
    "NIR": "Le NIR 185057800608436 est inconnu pour l'id technique partenaire {id}",
}
SOURCE_HEADER = "Id Technique;Nom de naissance;Prénom;Code;Date Debut Validite"


@dataclass
class Holder:
    idTechnique: str
    nom: str
    prenom: str
    code: str = "RNCP34567"
    issued: dt.date | str | None = None  # dateDebutValidite as written in the csv


def receipt_xml(
    ko: dict[str, str], ok: list[str], *, traitement: str, fichier: str = "flux.xml"
) -> str:
    rejected = "".join(
        f"<passage><idTechnique>{escape(i)}</idTechnique>"
        f"<messageErreur>{escape(MESSAGES[m].format(id=i))}</messageErreur></passage>"
        for i, m in ko.items()
    )
    accepted = "".join(f"<idTechnique>{escape(i)}</idTechnique>" for i in ok)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">'
        f"<nomFichier>{fichier}</nomFichier><idFlux>flux-{traitement}</idFlux>"
        f"<idTraitement>{traitement}</idTraitement>"
        f"<PassagesKO>{rejected}</PassagesKO><PassagesOK>{accepted}</PassagesOK></rapport>\n"
    )


def source_csv(holders: list[Holder]) -> str:
    lines = [SOURCE_HEADER]
    for h in holders:
        issued = h.issued.strftime("%d/%m/%Y") if isinstance(h.issued, dt.date) else h.issued
        lines.append(f"{h.idTechnique};{h.nom};{h.prenom};{h.code};{issued or ''}")
    return "\n".join(lines) + "\n"


@dataclass
class Deposit:
    """One round: what the portal said, and (optionally) the user's file."""

    name: str
    ko: dict[str, str]
    ok: list[str] = field(default_factory=list)
    holders: list[Holder] | None = None
    days_ago: int = 0  # when it was analysed, so rejection dates differ

    def write(self, folder: Path) -> tuple[Path, Path | None]:
        receipt = folder / f"{self.name}.xml"
        receipt.write_text(receipt_xml(self.ko, self.ok, traitement=self.name), encoding="utf-8")
        source = None
        if self.holders is not None:
            source = folder / f"{self.name}.csv"
            source.write_text(source_csv(self.holders), encoding="utf-8")
        return receipt, source

    def analyse(self, folder: Path) -> Analysis:
        receipt, source = self.write(folder)
        analysis = analyse(receipt, source)
        now = dt.datetime.now().astimezone()
        analysis.analysed_at = now - dt.timedelta(days=self.days_ago)
        return analysis


def big_deposit(name: str, count: int, rejected_every: int = 3) -> Deposit:
    ids = [f"{name}-{n:06d}" for n in range(count)]
    ko = {i: "N1" for i in ids[::rejected_every]}
    ok = [i for i in ids if i not in ko]
    return Deposit(name, ko, ok)


# --- workers for other processes --------------------------------------------------------------


def record_worker(deposit: Deposit, folder: str, store: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """Analyse, wait for the others, then record at the same moment they do."""
    from accuse.history.store import record

    analysis = deposit.analyse(Path(folder))
    barrier.wait(timeout=60)
    outcome = record(analysis, store)
    results.put((deposit.name, outcome.new, outcome.receipt_id))


def killed_worker(deposit: Deposit, folder: str, store: str) -> None:
    """Record, and die by SIGKILL once the first batch of passages is written."""
    import accuse.history.store

    analysis = deposit.analyse(Path(folder))

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    accuse.history.store._after_batch = die
    accuse.history.store.record(analysis, store)
    raise AssertionError("the process should have been killed")
