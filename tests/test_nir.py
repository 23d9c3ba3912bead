"""The NIR in a spreadsheet or csv: recognised, diagnosed against the other identity fields,
and never shown in clear outside the user's own columns."""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.fix.workbook import FIX_HEADER_ROW
from accuse.model import Finding
from accuse.nir import key_of
from accuse.pipeline.analysis import analyse
from accuse.render.worksheet import SHEET_FIX
from tests.conftest import FIXTURES, write

N3 = "Aucun titulaire ne correspond aux critères de reconciliation"
N1 = "Aucun titulaire ne correspond aux critères obligatoires"
HEADER = (
    "Id Technique;N° SS;Nom de naissance;Prénom;Sexe;Année de naissance;Mois de naissance;"
    "Jour de naissance;Code INSEE de naissance;Code Certification;Type;Date Debut Validite"
)
# A woman born in May 1985 in Toulouse (31555): the right NIR, then one wrong item at a time.
RIGHT = "2850531555123"


def _key(nir13: str) -> str:
    return f"{nir13}{key_of(nir13):02d}"


def _bad_key(nir13: str) -> str:
    return f"{nir13}{(key_of(nir13) + 1) % 97 or 1:02d}"


# id -> (NIR as typed, sexe, année, mois, code INSEE)
ROWS = {
    "OK": (RIGHT, "F", "1985", "5", "31555"),
    "SEXE": ("1850531555124", "F", "1985", "5", "31555"),
    "ANNEE": ("2860531555125", "F", "1985", "5", "31555"),
    "MOIS": ("2850631555126", "F", "1985", "5", "31555"),
    "DEPT": ("2850544109127", "F", "1985", "5", "31555"),
    "ETRANGER": ("2850599350128", "F", "1985", "5", "31555"),
    "CLE_BONNE": (_key("2850531555129"), "F", "1985", "5", "31555"),
    "CLE_FAUSSE": (_bad_key("2850531555130"), "F", "1985", "5", "31555"),
    "ESPACES": ("2 85 05 31.555.131", "F", "1985", "5", "31555"),
    "SEUL": ("2850531555132", "", "", "", ""),
    "CORSE": ("185052A004133", "M", "1985", "5", "2A004"),
    "PROVISOIRE": ("3850531555134", "F", "1985", "5", "31555"),
}
PLANTED = [re.sub(r"[\s.]", "", nir) for nir, *_ in ROWS.values()]


def _source(tmp_path: Path) -> Path:
    lines = [HEADER]
    for identifier, (nir, sex, year, month, insee) in ROWS.items():
        first = "" if identifier == "SEUL" else "Marie"
        lines.append(
            f"{identifier};{nir};Durand;{first};{sex};{year};{month};12;{insee};"
            "RNCP34567;RNCP;01/06/2024"
        )
    return write(tmp_path / "titulaires.csv", "\n".join(lines) + "\n")


def _receipt(tmp_path: Path) -> Path:
    passages = "".join(
        f"<passage><idTechnique>{i}</idTechnique><messageErreur>{N3}</messageErreur></passage>"
        for i in ROWS
        if i != "SEUL"
    )
    # A refusal wording never seen, quoting the NIR: kept whole, the NIR masked.
    unknown = f"Le NIR {PLANTED[-3]} ne correspond à aucun assuré"
    passages += (
        f"<passage><idTechnique>SEUL</idTechnique><messageErreur>{unknown}</messageErreur>"
        "</passage>"
    )
    return write(
        tmp_path / "recu.xml",
        f'<?xml version="1.0" encoding="UTF-8"?><rapport><nomFichier>f.xml</nomFichier>'
        f"<PassagesKO>{passages}</PassagesKO><PassagesOK/></rapport>",
    )


@pytest.fixture
def analysed(tmp_path: Path) -> dict[str, tuple[str, list[Finding]]]:
    analysis = analyse(_receipt(tmp_path), _source(tmp_path))
    assert analysis.source is not None
    assert "nir" in analysis.source.columns and "codeInsee" in analysis.source.columns
    return {r.idTechnique: (r.code, list(r.findings)) for r in analysis.rejected}


def _about(findings: list[Finding], champ: str) -> list[str]:
    return [f.message for f in findings if f.champ == champ]


def test_a_right_nir_says_nothing(analysed) -> None:
    code, findings = analysed["OK"]
    assert code == "TITULAIRE_INTROUVABLE_N3"
    assert not any("NIR" in f.message for f in findings)
    # "Code INSEE de naissance" is understood: no "neither INSEE nor postal code" finding.
    assert not any("Ni le code INSEE" in f.message for f in findings)


def test_each_disagreeing_field_is_named(analysed) -> None:
    assert any("ne correspond pas au NIR" in m for m in _about(analysed["SEXE"][1], "sexe"))
    assert any("1985" in m for m in _about(analysed["ANNEE"][1], "anneeNaissance"))
    assert any("mois 6" in m for m in _about(analysed["MOIS"][1], "moisNaissance"))
    assert any("département" in m for m in _about(analysed["DEPT"][1], "codeInsee"))
    assert any("étranger" in m for m in _about(analysed["ETRANGER"][1], "codeInsee"))
    # Each wrong row is told about its own field only.
    assert not _about(analysed["SEXE"][1], "anneeNaissance")
    assert not _about(analysed["MOIS"][1], "sexe")
    assert not _about(analysed["CORSE"][1], "codeInsee")
    for identifier in ("OK", "ESPACES", "CORSE"):
        assert not _about(analysed[identifier][1], "nir"), identifier


def test_the_key_is_checked_and_must_go(analysed) -> None:
    (good,) = _about(analysed["CLE_BONNE"][1], "nir")
    assert "clé est juste" in good and "Retirez la clé" in good
    (bad,) = _about(analysed["CLE_FAUSSE"][1], "nir")
    assert "ne correspond pas" in bad
    assert any("commence par « 3 »" in m for m in _about(analysed["PROVISOIRE"][1], "nir"))


def test_a_passage_identified_by_its_nir_is_not_told_its_first_name_is_empty(analysed) -> None:
    code, findings = analysed["SEUL"]
    assert code == "MESSAGE_INCONNU"
    assert not any(f.champ in ("prenom1", "sexe", "anneeNaissance") for f in findings)


def test_no_finding_quotes_a_nir(analysed) -> None:
    for _, findings in analysed.values():
        for finding in findings:
            assert not _has_clear_nir(finding.message), finding.message


def _has_clear_nir(text: str) -> list[str]:
    flat = re.sub(r"[\s.\u00a0]", "", text)
    return [nir for nir in PLANTED if nir[:13] in flat or nir[:13].lower() in flat]


def test_every_output_is_searched_for_the_planted_nirs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    history = tmp_path / "historique.sqlite"
    monkeypatch.setenv("ACCUSE_HISTORIQUE", str(history))
    receipt, source = _receipt(tmp_path), _source(tmp_path)
    out = tmp_path / "sortie"
    runner = CliRunner()
    text = runner.invoke(app, ["analyse", str(receipt), "-s", str(source), "--sortie", str(out)])
    assert text.exit_code == 1, text.output
    as_json = runner.invoke(
        app, ["analyse", str(receipt), "-s", str(source), "--format", "json", "--sans-sortie"]
    )
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["ko"][0]["valeurs"]["nir"] == "2 85 05 •• ••• •••"
    suivi = runner.invoke(app, ["suivi"])
    report = (out / "rapport.html").read_text("utf-8")
    assert "2 85 05 •• ••• •••" in report
    outputs = {
        "terminal": text.stdout,
        "stderr": text.stderr + as_json.stderr + suivi.stderr,
        "json": as_json.stdout,
        "suivi": suivi.stdout,
        "rapport.html": report,
        "historique": history.read_bytes().decode("utf-8", "replace"),
    }
    # The worksheet: the user's own NIR column stays in clear, nothing else holds one.
    sheet = openpyxl.load_workbook(out / "corrections.xlsx")[SHEET_FIX]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    nir_column = header.index("N° SS")
    others = []
    user_nirs = []
    for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1, values_only=True):
        user_nirs.append(str(row[nir_column]))
        others += [str(v) for i, v in enumerate(row) if i != nir_column and v is not None]
    assert RIGHT in user_nirs
    outputs["corrections.xlsx (hors colonne NIR)"] = "\n".join(others)
    for name, content in outputs.items():
        assert not _has_clear_nir(content), f"NIR en clair dans {name}"
    # The explicit option gives it back, in the JSON only.
    clear = runner.invoke(
        app,
        [
            "analyse",
            str(receipt),
            "-s",
            str(source),
            "-f",
            "json",
            "--sans-sortie",
            "--nir-en-clair",
        ],
    )
    assert json.loads(clear.stdout)["ko"][0]["valeurs"]["nir"] == RIGHT


def test_whole_file_rejection_quoting_a_nir_is_masked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    nir = _key("2850531555123")
    receipt = write(
        tmp_path / "rejet.xml",
        "<rapport><nomFichier>f.xml</nomFichier><idDemande>1</idDemande><erreurs><erreur>"
        f"<type>XSD</type><message>cvc-pattern-valid : La valeur '{nir}' n'est pas un facet "
        "valide par rapport au modèle '[12]{1}[0-9]{4}' pour le type '#AnonType_nir'."
        "</message><ligne>12</ligne><colonne>30</colonne></erreur></erreurs></rapport>",
    )
    result = CliRunner().invoke(app, ["analyse", str(receipt), "--sans-sortie"])
    assert result.exit_code == 1
    assert "2 85 05 •• ••• ••• ••" in result.stdout
    assert nir not in re.sub(r"\s", "", result.stdout)


def test_header_words_and_the_columns_understood(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    source = write(
        tmp_path / "s.csv",
        "Identifiant technique du passage;NOM DE NAISSANCE;Prénom usuel;Sexe du candidat;"
        "Année de naissance;Code INSEE de naissance;Nom d'usage (épouse);Commentaire\n"
        "1960049;Girard;Paul;M;1980;13208;;rien\n",
    )
    result = CliRunner().invoke(
        app, ["analyse", str(FIXTURES / "recu.xml"), "-s", str(source), "--sans-sortie"]
    )
    flat = " ".join(result.stdout.split())
    # Seven of eight columns understood; those headed by the field's own name are only counted.
    assert "7 colonnes reconnues, dont : « Identifiant technique du passage » = " in flat
    assert "« Code INSEE de naissance » =" not in flat
    assert "« Prénom usuel » = Prenom 1 (8.3)" in flat
    assert "« Nom d'usage (épouse) » = Nom Usage (8.2)" in flat
    assert "Ignorées : « Commentaire »" in flat
    assert "Ni le code INSEE ni le code postal" not in flat


def _mail_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    body = message.get_body(preferencelist=("plain", "html"))
    assert body is not None
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    return headers + "\n" + str(body.get_content())


def test_verifier_and_courriels_outputs_hold_no_clear_nir(tmp_path: Path, monkeypatch) -> None:
    """The pre-deposit check and the e-mail drafts read the same NIR column: none of what they
    write or print shows it in clear (the drafts never carry it at all)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    lines = _source(tmp_path).read_text("utf-8").splitlines()
    with_mail = [lines[0] + ";Courriel"] + [
        f"{line};{line.split(';')[0].lower()}@exemple.fr" for line in lines[1:]
    ]
    source = write(tmp_path / "titulaires-courriel.csv", "\n".join(with_mail) + "\n")
    receipt = _receipt(tmp_path)
    runner = CliRunner()
    mails = tmp_path / "courriels"
    drafted = runner.invoke(
        app, ["courriels", str(receipt), "-s", str(source), "--sortie", str(mails)]
    )
    assert drafted.exit_code == 0, drafted.output
    drafts = sorted(mails.glob("*.eml"))
    assert drafts, "des brouillons sont écrits pour les refus d'identité"
    # The search reads the decoded body: it does find what the drafts do carry.
    assert all("Durand" in _mail_text(draft) for draft in drafts)
    checked = tmp_path / "verification"
    verified = runner.invoke(
        app, ["verifier", str(source), "--sans-historique", "--sortie", str(checked)]
    )
    as_json = runner.invoke(
        app, ["verifier", str(source), "--sans-historique", "--format", "json", "--sans-sortie"]
    )
    assert verified.exit_code in (0, 1), verified.output
    outputs = {
        "courriels (terminal)": drafted.stdout + drafted.stderr,
        "publipostage.csv": (mails / "publipostage.csv").read_text("utf-8-sig"),
        "verifier (terminal)": verified.stdout + verified.stderr,
        "verifier (json)": as_json.stdout,
        # Read as a mail client would: the body may be base64 or quoted-printable on disk.
        **{draft.name: _mail_text(draft) for draft in drafts},
        **{page.name: page.read_text("utf-8") for page in checked.glob("*.html")},
    }
    assert any(name.endswith(".html") for name in outputs), "verification.html est écrit"
    for name, content in outputs.items():
        assert not _has_clear_nir(content), f"NIR en clair dans {name}"
