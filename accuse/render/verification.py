"""What `accuse verifier` shows: the verdict sentence, a terminal summary, the JSON document
and verification.html (same style as rapport.html). Every fact comes from the Verification."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from accuse.fix.verify import Concern, Verification
from accuse.output import atomic_target
from accuse.reference.catalogue import Catalogue
from accuse.reference.fields import by_key
from accuse.render.html import asset, date_fr, environment
from accuse.text import inert, plural

FORMAT_VERSION = 1  # of the JSON document (accuse/data/schemas/verifier.json)
ROWS_SHOWN_HTML = 2000  # problems written into the page; the JSON has them all
_KIND = {
    ("tableur", "plat"): "classeur",
    ("tableur", "modele_v1.4"): "modèle Excel officiel v1.4",
    ("csv", "plat"): "fichier csv",
    ("flux", "flux"): "flux XML",
}
GRAVITE_LABEL = {"bloquant": "bloquant", "risque": "risque"}


def describe(verification: Verification) -> str:
    kind = _KIND.get((verification.kind, verification.layout), verification.kind)
    schema = f", schéma XSD {verification.schema}" if verification.schema else ""
    return f"{kind}{schema}"


def verdict(verification: Verification) -> str:
    """The one sentence that says whether the file can be deposited."""
    v = verification
    passages = plural(v.passages, "passage")
    risks = len(v.risques)
    risk_note = (
        f" ; {plural(risks, 'risque')} à vérifier (ce qui pourrait faire refuser un passage)"
        if risks
        else ""
    )
    if v.verdict == "pret":
        return f"Prêt à déposer : rien de bloquant dans les {passages}{risk_note}."
    blocking = v.bloquants
    rows = len({p.ligne for p in blocking if p.ligne is not None})
    whole = any(p.code.startswith(("XSD_", "XML_")) for p in blocking) and v.kind == "flux"
    effect = (
        "le portail refuserait le fichier entier"
        if whole
        else f"le portail refuserait au moins {plural(rows, 'passage')}"
        if rows
        else "le portail refuserait le fichier"
    )
    count = plural(len(blocking), "problème bloquant", "problèmes bloquants")
    return f"À corriger avant le dépôt : {count} ({effect}), sur {passages}{risk_note}."


def document(verification: Verification) -> dict:
    """The JSON document of `accuse verifier --format json` (its shape is a contract)."""
    v = verification
    return {
        "format": FORMAT_VERSION,
        "verdict": v.verdict,
        "schema": v.schema,
        "totaux": {
            "passages": v.passages,
            "bloquants": len(v.bloquants),
            "risques": len(v.risques),
        },
        "problemes": [
            {
                "idTechnique": p.idTechnique,
                "ligne": p.ligne,
                "champ": p.champ,
                "code": p.code,
                "gravite": p.gravite,
                "message": p.message,
            }
            for p in v.problems
        ],
    }


# --- terminal --------------------------------------------------------------------------------


def render(verification: Verification, console: Console, rows: int = 20) -> None:
    v = verification
    console.print(Text(f"Vérification de {inert(v.path.name)} ({describe(v)})", style="bold"))
    style = "bold green" if v.verdict == "pret" else "bold red"
    console.print(Text(verdict(v), style=style))
    if v.problems:
        table = Table(title="Par règle", title_justify="left", show_lines=False)
        table.add_column("Gravité")
        table.add_column("Règle")
        table.add_column("Code")
        table.add_column("Nombre", justify="right")
        for code, title, gravite, count in v.counts():
            colour = "red" if gravite == "bloquant" else "yellow"
            table.add_row(Text(GRAVITE_LABEL[gravite], style=colour), title, code, str(count))
        console.print(table)
        console.print(_first(v, rows))
        if len(v.problems) > rows:
            console.print(
                Text(
                    f"… et {len(v.problems) - rows} autre(s) : tous sont dans verification.html "
                    "et dans --format json.",
                    style="dim",
                )
            )
    if v.history:
        console.print(Text(inert(v.history), style="dim"))


def ordered(problems: Sequence[Concern]) -> list[Concern]:
    """Blocking problems first, each kind in file order."""
    return sorted(problems, key=lambda p: (p.gravite != "bloquant", p.ligne or 0))


def field_names(v: Verification) -> Callable[[str | None], str]:
    """How a problem's field is named for the user: the header of their column in a
    spreadsheet or csv (Date fin), the element's own name in a flux (what they see in the
    XML), else the column of the official template the file lacks."""
    headers = v.source.column_headers() if v.source is not None and v.source.kind != "flux" else {}

    def name(champ: str | None) -> str:
        if not champ:
            return ""
        if champ in headers:
            return inert(headers[champ])
        spec = by_key().get(champ)
        if v.kind == "flux" or spec is None:
            return champ
        return f"{spec.label} (absente du fichier)"

    return name


def _first(v: Verification, rows: int) -> Text:
    text = Text("Premiers problèmes :\n", style="bold")
    named = field_names(v)
    for p in ordered(v.problems)[:rows]:
        where = f"ligne {p.ligne}" if p.ligne is not None else "fichier"
        if p.idTechnique:
            where += f" ({inert(p.idTechnique)})"
        if p.champ:
            where += (
                f", {named(p.champ)}" if v.kind == "flux" else f", colonne « {named(p.champ)} »"
            )
        colour = "red" if p.gravite == "bloquant" else "yellow"
        text.append(f"- {where} ", style="bold")
        text.append(f"[{p.gravite}] ", style=colour)
        text.append(inert(p.message) + "\n")
    return text


# --- verification.html -----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleView:
    code: str
    titre: str
    gravite: str
    count: int
    explication: str
    actions: tuple[str, ...]


def _rules(verification: Verification, catalogue: Catalogue) -> list[RuleView]:
    views = []
    for code, title, gravite, count in verification.counts():
        entry = catalogue.get(code)
        views.append(
            RuleView(
                code,
                title,
                gravite,
                count,
                entry.explication.replace("\\\n", "") if entry else "",
                entry.actions if entry else (),
            )
        )
    return views


def render_page(verification: Verification, catalogue: Catalogue) -> str:
    v = verification
    shown = ordered(v.problems)[:ROWS_SHOWN_HTML]
    named = field_names(v)
    identity = [
        ("Fichier", inert(v.path.name)),
        ("Sorte", describe(v)),
        ("Passages", str(v.passages)),
        ("Vérifié le", date_fr(v.verified_at)),
    ]
    if v.history:
        identity.append(("Historique", inert(v.history)))
    return (
        environment()
        .get_template("verification.html.j2")
        .render(
            title=inert(v.path.name),
            verdict=verdict(v),
            ready=v.verdict == "pret",
            flux=v.kind == "flux",
            identity=identity,
            totals=(v.passages, len(v.bloquants), len(v.risques)),
            rules=_rules(v, catalogue),
            problems=[
                (
                    p.ligne if p.ligne is not None else "—",
                    inert(p.idTechnique or ""),
                    named(p.champ),
                    p.gravite,
                    v.titles.get(p.code, p.code),
                    inert(p.message),
                )
                for p in shown
            ],
            hidden=len(v.problems) - len(shown),
            css=asset("rapport.css"),
        )
    )


def write_page(
    verification: Verification, catalogue: Catalogue, path: Path, inputs: Sequence[Path] = ()
) -> Path:
    page = render_page(verification, catalogue)
    with atomic_target(Path(path), inputs) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return Path(path)
