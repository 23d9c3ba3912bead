"""The drafts of `accuse courriels`: one .eml per holder to ask, and publipostage.csv.

The wording comes from Jinja2 templates: the shipped ones (templates/courriel*.txt.j2), each
replaceable by a file of the same name in the user's accuse folder. Templates only ever see the
values of one holder's identity lines, made single-line and inert: never the rest of the row.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from rich.console import Console
from rich.text import Text

from accuse.cells import cell_text
from accuse.errors import InputError
from accuse.model import CellValue
from accuse.nir import mask_in_text
from accuse.output import prepare_folder, write_bytes
from accuse.pipeline.analysis import Analysis, input_paths
from accuse.pipeline.holders import (
    HolderRequest,
    IdentityLine,
    MailPlan,
    address_column,
    check_address,
    plan_mails,
)
from accuse.render.outputs import default_output_folder
from accuse.text import fold, formula_safe, inert, squeeze

MAILING_NAME = "publipostage.csv"
MAILING_HEADERS = ("Courriel", "Nom", "Objet", "Message")
DRAFT_PATTERN = "courriel-ligne-*.eml"
BASE_TEMPLATE = "courriel.txt.j2"
_SUBJECT = re.compile(r"[ \t]*Objet[ \t]*:[ \t]*(?P<objet>[^\n]*)\n?")
_MAX_SUBJECT = 250
# .eml files travel between systems: CRLF line ends, as the standard wants.
_EML_POLICY = default_policy.clone(linesep="\r\n")


@dataclass(frozen=True)
class Draft:
    request: HolderRequest  # the holder's first refused passage
    address: str
    name: str
    subject: str
    body: str
    others: tuple[HolderRequest, ...] = ()  # the same holder's other refused passages

    @property
    def requests(self) -> tuple[HolderRequest, ...]:
        return (self.request, *self.others)

    @property
    def filename(self) -> str:
        return f"courriel-ligne-{self.request.position}.eml"


@dataclass(frozen=True)
class WrittenMails:
    folder: Path
    drafts: list[Path]
    mailing: Path
    stale: list[Path]  # drafts of an earlier run in this folder that this run did not write


def default_mail_folder(receipt_path: Path) -> Path:
    """``accuse-<receipt name>-courriels``, beside the folder `accuse analyse` writes."""
    folder = default_output_folder(receipt_path)
    return folder.with_name(folder.name + "-courriels")


# --- values as the holder reads them -------------------------------------------------------


def shown(value: CellValue) -> str:
    """A cell on one line, control and direction characters made visible: it cannot add a line
    to the e-mail nor disguise itself. A NIR typed in the wrong column is masked."""
    return inert(mask_in_text(squeeze(cell_text(value))))


def line_text(line: IdentityLine) -> str:
    if not line.filled:
        return ""
    parts = [shown(v) if v is not None else "?" for v in line.values]
    text = line.separator.join(parts)
    meanings = dict(line.meanings)
    if len(parts) == 1 and text.upper() in meanings:
        text = f"{text} ({meanings[text.upper()]})"
    return text


def certification_text(request: HolderRequest) -> str:
    kind, code = (shown(v) if v is not None else "" for v in request.certification)
    if kind and code and not fold(code).startswith(fold(kind)):
        return f"{kind} {code}"
    return code or kind


def template_context(
    request: HolderRequest, others: Sequence[HolderRequest] = ()
) -> dict[str, object]:
    """The variables a template sees (documented in the README): one holder's, nothing else.
    ``others``: the same holder's other refused passages (same address, same identity)."""
    every = (request, *others)
    lines = [
        {
            "libelle": line.label,
            "valeur": line_text(line),
            "renseigne": line.filled,
            "a_verifier": any(r.identity[i].concerned or r.identity[i].flagged for r in every),
            "signale": any(r.identity[i].flagged for r in every),
        }
        for i, line in enumerate(request.identity)
    ]
    passages = [
        {
            "identifiant": shown(r.idTechnique),
            "certification": certification_text(r),
            "famille": r.family.code,
            "famille_titre": r.family.titre,
            "ligne": r.position,
        }
        for r in every
    ]
    names = list(dict.fromkeys(text for r in every if (text := certification_text(r))))
    certifications = " et ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else ""
    certifications = certifications or "".join(names)

    def value(key: str) -> str:
        found = request.value(key)
        return shown(found) if found is not None else ""

    return {
        "prenom": value("prenom1"),
        "nom": value("nomNaissance"),
        "nom_usage": value("nomUsage"),
        "certification": certification_text(request),
        "identite": lines,
        "a_verifier": [line["libelle"] for line in lines if line["a_verifier"]],
        "signales": [line["libelle"] for line in lines if line["signale"]],
        "famille": request.family.code,
        "famille_titre": request.family.titre,
        "identifiant": shown(request.idTechnique),
        "ligne": request.position,
        "courriel": request.address or "",
        "passages": passages,
        "certifications": certifications,
    }


# --- templates -----------------------------------------------------------------------------


def template_environment(user_folder: Path | None) -> jinja2.Environment:
    """The user's templates first (``user_folder``), then the shipped ones; sandboxed."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("accuse.templates", "")]
    if user_folder is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(user_folder), encoding="utf-8"))
    return SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # plain text e-mails; every value is made inert before it gets here
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template_names(code: str) -> list[str]:
    return [f"courriel-{code}.txt.j2", BASE_TEMPLATE]


def _template_error(error: Exception, template: str, user_folder: Path) -> InputError:
    where = getattr(error, "filename", None) or str(user_folder / template)
    if isinstance(error, jinja2.TemplateSyntaxError):
        detail = inert(error.message or "", one_line=True)[:200]
        why = f"erreur de syntaxe ligne {error.lineno} (détail : « {detail} »)"
    elif isinstance(error, jinja2.UndefinedError):
        found = re.search(r"'([^']{1,80})' is undefined", str(error))
        name = found.group(1) if found else inert(str(error))[:200]
        why = f"variable inconnue « {name} » (les variables permises sont dans le README)"
    elif isinstance(error, UnicodeDecodeError):
        why = "le fichier n'est pas en UTF-8"
    else:
        why = f"erreur du modèle (détail : « {inert(str(error), one_line=True)[:200]} »)"
    return InputError(
        f"modèle de courriel inutilisable : {why} ; rien n'a été écrit. Corrigez-le, ou "
        "retirez-le pour revenir au modèle fourni.",
        where,
    )


def render_draft(
    request: HolderRequest,
    environment: jinja2.Environment,
    user_folder: Path | None,
    others: Sequence[HolderRequest] = (),
) -> Draft:
    assert request.address is not None
    names = _template_names(request.family.code)
    # The user's file among those this e-mail is made from, the one to blame when it fails.
    own = None
    if user_folder is not None:
        own = next((n for n in names if (user_folder / n).is_file()), None)
    context = template_context(request, others)
    try:
        text = environment.select_template(names).render(context)
    except (jinja2.TemplateError, UnicodeDecodeError) as error:
        if own is None or user_folder is None:
            raise  # the shipped templates are ours: a bug, not the user's input
        raise _template_error(error, own, user_folder) from None
    where = user_folder / own if user_folder is not None and own else Path(BASE_TEMPLATE)
    subject, body = _split(text.replace("\r\n", "\n"), where)
    name = " ".join(str(context[k]) for k in ("prenom", "nom") if context[k])
    return Draft(request, request.address, name, subject, body, tuple(others))


def _split(text: str, template: Path) -> tuple[str, str]:
    """The first line « Objet : … » is the subject; the rest, the body."""
    stripped = text.lstrip("\n")
    match = _SUBJECT.match(stripped)
    subject = squeeze(match.group("objet")) if match else ""
    if not match or not subject:
        raise InputError(
            "modèle de courriel inutilisable : sa première ligne doit être « Objet : … » (l'objet "
            "du courriel) ; rien n'a été écrit.",
            template,
        )
    body_lines = [line.rstrip() for line in stripped[match.end() :].split("\n")]
    body = "\n".join(body_lines).strip("\n") + "\n"
    return inert(subject)[:_MAX_SUBJECT], re.sub(r"\n{3,}", "\n\n", body)


def render_drafts(plan: MailPlan, user_folder: Path | None = None) -> list[Draft]:
    """Every draft, one per holder, worded before anything is written (a bad template writes
    nothing). A holder refused for several passages gets one draft that lists them all.

    ``user_folder``: where the user's own templates are (the CLI gives their accuse folder,
    ``user_config_folder()``); None, the shipped templates only."""
    environment = template_environment(user_folder)
    return [render_draft(group[0], environment, user_folder, group[1:]) for group in plan.holders]


# --- files ---------------------------------------------------------------------------------


def eml_bytes(draft: Draft, date: dt.datetime, sender: str | None = None) -> bytes:
    message = EmailMessage(policy=_EML_POLICY)
    if sender:
        message["From"] = sender
    message["To"] = draft.address
    message["Subject"] = draft.subject
    message["Date"] = format_datetime(date)
    message["X-Unsent"] = "1"  # Outlook opens it as a draft to send; Thunderbird as a message
    message.set_content(draft.body, charset="utf-8")
    return message.as_bytes()


def mailing_bytes(drafts: Sequence[Draft]) -> bytes:
    """publipostage.csv: ';', UTF-8 with BOM (what Excel opens right), formulas inert."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(MAILING_HEADERS)
    for draft in drafts:
        cells = (draft.address, draft.name, draft.subject, draft.body.replace("\n", "\r\n"))
        writer.writerow([formula_safe(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


def write_mails(
    drafts: Sequence[Draft],
    folder: Path,
    inputs: Sequence[Path],
    date: dt.datetime,
    sender: str | None = None,
) -> WrittenMails:
    """Each draft and the mail-merge file, written atomically into ``folder``."""
    created = not Path(folder).exists()
    folder = prepare_folder(folder, inputs)
    names = {d.filename for d in drafts}
    stale = sorted(p for p in folder.glob(DRAFT_PATTERN) if p.name not in names)
    written: list[Path] = []
    mailing = folder / MAILING_NAME
    try:
        for draft in drafts:
            target = folder / draft.filename
            write_bytes(target, eml_bytes(draft, date, sender), inputs)
            written.append(target)
        write_bytes(mailing, mailing_bytes(drafts), inputs)
    except BaseException:
        if created:  # a failed first run leaves no folder behind
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return WrittenMails(folder, written, mailing, stale)


# --- the whole command ----------------------------------------------------------------------


@dataclass(frozen=True)
class MailDrafts:
    """What `accuse courriels` did: whom it sorted where, the drafts, the files written."""

    plan: MailPlan
    drafts: list[Draft]
    written: WrittenMails | None  # None when there was no draft to write (nothing written)


def draft_mails(
    analysis: Analysis,
    folder: Path,
    *,
    address_header: str | None = None,
    user_folder: Path | None = None,
    sender: str | None = None,
) -> MailDrafts:
    """The drafts to the holders of the identity refusals of ``analysis``, written into
    ``folder``. ``address_header`` names the e-mail column when its header is not recognised;
    ``user_folder`` holds the user's own templates (None: the shipped ones only); ``sender``
    fills From. Raises InputError, writing nothing, for a missing column, a bad sender or a
    bad template."""
    if sender is not None and check_address(sender)[1] is not None:
        raise InputError(
            "--expediteur attend une seule adresse électronique de la forme nom@domaine.fr."
        )
    if analysis.source is None:
        raise InputError("il faut le fichier des passages déposés (--source) pour les adresses.")
    column = address_column(analysis.source, address_header)
    plan = plan_mails(analysis, column)
    if plan.requests and column is None:
        raise InputError(
            "aucune colonne d'adresse électronique (Courriel, E-mail, Email, Adresse "
            "électronique…) dans ce fichier : ajoutez-en une, ou nommez la vôtre avec "
            "--colonne-courriel.",
            analysis.source.path,
        )
    drafts = render_drafts(plan, user_folder)  # all worded before anything is written
    written = None
    if drafts:
        written = write_mails(
            drafts, folder, input_paths(analysis), analysis.analysed_at, sender and sender.strip()
        )
    return MailDrafts(plan, drafts, written)


# --- the summary in the terminal -----------------------------------------------------------

DRAFTS_LISTED = 50  # drafts listed by name; beyond, a count (publipostage.csv has them all)
_WHY = {
    "sans_adresse": "pas d'adresse",
    "plusieurs_adresses": "plusieurs adresses dans la cellule",
    "caracteres_interdits": "retour à la ligne ou caractère invisible dans la cellule",
    "adresse_invalide": "adresse mal formée",
}


def _one_line(text: str) -> str:
    """Text inert and on one line: a line break is shown, not obeyed."""
    return inert(text).replace("\n", "\\u000a").replace("\t", "\\u0009")


def _who(request: HolderRequest, others: Sequence[HolderRequest] = ()) -> str:
    context = template_context(request)
    name = " ".join(str(context[k]) for k in ("prenom", "nom") if context[k])
    if not others:
        return f"ligne {request.position} — {name or '(sans nom)'} (id {context['identifiant']})"
    every = (request, *others)
    lines = ", ".join(str(r.position) for r in every)
    ids = ", ".join(shown(r.idTechnique) for r in every)
    return f"lignes {lines} — {name or '(sans nom)'} (ids {ids})"


def print_summary(outcome: MailDrafts, console: Console) -> None:
    """Who gets a draft, who must be reached otherwise, which refusals are not theirs."""
    plan, drafts, written = outcome.plan, outcome.drafts, outcome.written
    heading = Text(
        f"Refus d'identité (seul le titulaire peut dire ce qui est juste) : {plan.identity_count}",
        style="bold",
    )
    console.print(heading)
    if plan.address_header is not None:
        header = inert(plan.address_header)
        console.print(Text(f"Adresses lues dans la colonne « {header} ».", style="dim"))
    console.print(Text(f"  Brouillons de courriel : {len(drafts)}", style="green"))
    for draft in drafts[:DRAFTS_LISTED]:
        console.print(Text(f"    {_who(draft.request, draft.others)} : {draft.address}"))
    if len(drafts) > DRAFTS_LISTED:
        console.print(
            Text(f"    … et {len(drafts) - DRAFTS_LISTED} autres (tous dans {MAILING_NAME}).")
        )
    unmailed = plan.unmailed
    without = [r for r in unmailed if r.problem == "sans_adresse"]
    unusable = [r for r in unmailed if r.problem != "sans_adresse"]
    if without:
        console.print(
            Text(f"  Sans adresse, à contacter autrement : {len(without)}", style="yellow")
        )
        for request in without:
            console.print(Text(f"    {_who(request)}"))
    if unusable:
        console.print(
            Text(
                "  Adresse inutilisable (pas de courriel : corrigez-la dans votre fichier ou "
                f"contactez autrement) : {len(unusable)}",
                style="yellow",
            )
        )
        for request in unusable:
            why = _WHY[request.problem or "adresse_invalide"]
            cell = _one_line(mask_in_text(cell_text(request.address_cell)))[:120]
            console.print(Text(f"    {_who(request)} : « {cell} », {why}"))
    for refusals, title in (
        (plan.not_found, "Introuvables dans votre fichier (pas de courriel)"),
        (
            plan.ambiguous,
            "Identifiant sur plusieurs lignes de votre fichier (pas de courriel : on ne sait pas "
            "laquelle a été déposée)",
        ),
    ):
        if refusals:
            console.print(Text(f"  {title} : {len(refusals)}", style="yellow"))
            for refusal in refusals:
                where = ", ".join(str(p) for p in refusal.positions)
                suffix = f" (lignes {where})" if where else ""
                console.print(Text(f"    id {inert(refusal.idTechnique)}{suffix}"))
    if plan.not_holders:
        console.print()
        console.print(
            Text(
                "Refus qui ne relèvent pas du titulaire (pas de courriel ; voir accuse analyse) : "
                f"{len(plan.not_holders)}",
                style="bold",
            )
        )
        counts: dict[str, int] = {}
        titles: dict[str, str] = {}
        for refusal in plan.not_holders:
            counts[refusal.family.code] = counts.get(refusal.family.code, 0) + 1
            titles[refusal.family.code] = refusal.family.titre
        for code, count in sorted(counts.items(), key=lambda item: -item[1]):
            console.print(Text(f"  {inert(titles[code])} : {count}"))
    console.print()
    if written is None:
        console.print(Text("Aucun brouillon à écrire : aucun fichier n'a été écrit.", style="dim"))
        return
    folder = inert(written.folder, one_line=True)
    console.print(
        Text(
            f"Écrit : {len(written.drafts)} brouillon(s) dans {folder} "
            f"(à ouvrir dans votre messagerie, relire puis envoyer ; accuse n'envoie rien)",
            style="green",
        )
    )
    console.print(
        Text(
            f"Écrit : {inert(written.mailing, one_line=True)} (pour un publipostage)",
            style="green",
        )
    )
    if written.stale:
        console.print(
            Text(
                f"Attention : {len(written.stale)} brouillon(s) d'une exécution précédente restent "
                f"dans ce dossier sans avoir été réécrits cette fois, ils sont périmés "
                f"({', '.join(p.name for p in written.stale[:5])}"
                f"{'…' if len(written.stale) > 5 else ''}) : supprimez-les avant d'envoyer.",
                style="bold yellow",
            )
        )
