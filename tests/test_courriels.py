"""`accuse courriels`: draft e-mails to the holders of identity refusals, read back as a mail
client would (the `email` package), with the mail-merge csv and the terminal summary."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.model import CellValue
from accuse.pipeline.holders import check_address
from accuse.reference.fields import field_for_header, is_dictionary_id
from tests.conftest import FIXTURES

RECU = FIXTURES / "recu.xml"
# fixtures/README.md: the identity refusals of recu.xml and their rows in source.csv (the line
# of the csv is the row of source-plat.xlsx).
IDENTITY = {"1960020": 8, "1960034": 13, "1960049": 18, "1960059": 21}  # K3, K4, K5, K6
OTHERS = {"202301-1": 2, "1960012": 6}  # K1 doublon, K2 certification (K7 dates too)
EXPECTED_HEADERS = {
    "To",
    "Subject",
    "Date",
    "X-Unsent",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The developer's own catalogue and templates must not change what the tests see.
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.chdir(tmp_path)


def run(*args: str | Path):
    return CliRunner().invoke(app, ["courriels", *map(str, args)])


def _nir(number: int) -> str:
    return f"2850775{number:06d}"


def csv_source(
    folder: Path,
    addresses: dict[str, str] | None = None,
    header: str = "Courriel",
    changes: dict[str, dict[str, str]] | None = None,
) -> Path:
    """fixtures/source.csv with an e-mail column, a NIR and a private note on every row.

    ``addresses`` overrides the address of an idTechnique; ``changes`` other cells by header."""
    with (FIXTURES / "source.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    headers = rows[0]
    rows[0] = [*headers, header, "NIR", "Notes"]
    for number, row in enumerate(rows[1:], start=1):
        identifier = row[0]
        address = (addresses or {}).get(identifier, f"titulaire{number}@exemple.fr")
        for name, value in (changes or {}).get(identifier, {}).items():
            row[headers.index(name)] = value
        row += [address, _nir(number), f"note privée {number}"]
    path = folder / "titulaires.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    return path


def drafts(folder: Path) -> dict[int, email.message.EmailMessage]:
    found = {}
    for path in folder.glob("*.eml"):
        name = re.fullmatch(r"courriel-ligne-(\d+)\.eml", path.name)
        assert name is not None, path.name
        line = int(name.group(1))
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[line] = message
    return found


def mailing(folder: Path) -> list[dict[str, str]]:
    text = (folder / "publipostage.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def every_output(folder: Path) -> str:
    """Every file written, as text: raw bytes and decoded bodies (quoted-printable hides)."""
    texts = []
    for path in folder.iterdir():
        raw = path.read_bytes()
        texts.append(raw.decode("utf-8", "replace"))
        if path.suffix == ".eml":
            message = email.message_from_bytes(raw, policy=email.policy.default)
            texts.append(message.get_content().replace("\r\n", "\n"))
            texts += [str(v) for v in message.values()]
    return "\n".join(texts)


# --- the drafts -------------------------------------------------------------------------------


def test_one_draft_per_identity_refusal_with_an_address(tmp_path: Path) -> None:
    source = csv_source(tmp_path)
    result = run(RECU, "--source", source)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "accuse-recu-courriels"  # beside accuse-recu, where analyse writes
    found = drafts(folder)
    assert sorted(found) == sorted(IDENTITY.values())
    for line, message in found.items():
        assert set(message.keys()) == EXPECTED_HEADERS
        assert message["To"] == f"titulaire{line - 1}@exemple.fr"
        assert message["X-Unsent"] == "1"
        assert message["Date"].datetime is not None
        assert "état civil" in message["Subject"]
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert "Bonjour" in message.get_content().replace("\r\n", "\n")
    # The other families are not the holder's to fix: no e-mail, and said so.
    assert not any(line in found for line in OTHERS.values())
    assert "Refus qui ne relèvent pas du titulaire" in result.stdout
    assert "Passage déjà enregistré (doublon) : 1" in result.stdout
    assert "Certification non reconnue : 1" in result.stdout
    assert "Dates incohérentes : 1" in result.stdout
    assert "Brouillons de courriel : 4" in result.stdout
    # The mail merge: one line per draft, same address, subject and body.
    merged = mailing(folder)
    assert [m["Courriel"] for m in merged] == [found[line]["To"] for line in sorted(found)]
    for entry, line in zip(merged, sorted(found), strict=True):
        assert entry["Objet"] == found[line]["Subject"]
        assert entry["Message"].replace("\r\n", "\n") == found[line].get_content().replace(
            "\r\n", "\n"
        )


def test_one_draft_and_one_mailing_line_per_holder(tmp_path: Path) -> None:
    # K5's row (1960049) made the same person as K4's (1960034), refused for another
    # certification; K3 (1960020), another person, shares K4's address.
    with (FIXTURES / "source.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    k4 = next(row for row in rows if row[0] == "1960034")
    same = {h: v for h, v in zip(rows[0], k4, strict=True) if h != "Id Technique"}
    same.update({"Type": "RS", "Code": "RS5678"})
    address = "titulaire12@exemple.fr"  # K4's, line 13
    source = csv_source(
        tmp_path,
        addresses={"1960049": address.upper(), "1960020": address},
        changes={"1960049": same},
    )
    result = run(RECU, "--source", source)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "accuse-recu-courriels"
    found = drafts(folder)
    assert sorted(found) == [8, 13, 21]  # K3, K4 with K5, K6
    assert "Brouillons de courriel : 3" in result.stdout
    assert "lignes 13, 18 — Bastien Blanc (ids 1960034, 1960049)" in result.stdout
    both = found[13]
    assert both["Subject"].startswith("Vos certifications RNCP34567 et RS5678 :")
    body = both.get_content().replace("\r\n", "\n")
    assert "les certifications RNCP34567 et RS5678 que vous avez obtenues" in body
    assert "Références de vos dossiers : 1960034 (RNCP34567), 1960049 (RS5678)" in body
    assert body.count("Nom de naissance : Blanc") == 1
    # K5's family (birthplace level) asks to check what K4's does not.
    assert re.search(r"Commune de naissance : Annecy +<- à vérifier", body)
    # K3 shares the address but is someone else: a draft of their own.
    assert found[8]["To"] == address and "Bonjour Léa Lefebvre," in found[8].get_content()
    merged = mailing(folder)
    assert sorted(m["Courriel"] for m in merged) == sorted(f["To"] for f in found.values())
    assert len(merged) == 3


def test_body_shows_the_deposited_identity_and_what_to_check(tmp_path: Path) -> None:
    result = run(RECU, "--source", csv_source(tmp_path))
    assert result.exit_code == 0, result.output
    found = drafts(tmp_path / "accuse-recu-courriels")
    # K4: day 10 and month 5 swapped; the refusal is about the birth date.
    k4 = found[IDENTITY["1960034"]]
    body = k4.get_content().replace("\r\n", "\n")
    assert "Bonjour Bastien Blanc," in body
    assert "la certification RNCP34567" in body
    assert "Nom de naissance : Blanc" in body
    assert "Premier prénom : Bastien" in body
    assert "2e prénom : Frédéric" in body
    assert re.search(r"Date de naissance \(jour/mois/année\) : 10/5/1982 +<- à vérifier", body)
    assert "Sexe : M (masculin)" in body
    assert "aucune n'est née le jour et le mois indiqués" in body
    assert "Référence de votre dossier : 1960034" in body
    assert "acte de naissance ou votre pièce d'identité" in body
    assert "RNCP34567" in k4["Subject"]
    # K6 (several holders): the missing day and month are asked for, the year shown as is.
    k6 = found[IDENTITY["1960059"]].get_content().replace("\r\n", "\n")
    assert "Bonjour Thomas Martin," in k6
    assert re.search(r"Date de naissance \(jour/mois/année\) : \?/\?/\d{4} +<- à vérifier", k6)
    assert re.search(r"2e prénom : \(non transmis\) +<- à vérifier", k6)
    assert "plusieurs personnes correspondent aux informations transmises" in k6
    # K5: the postal code typed as the INSEE code is flagged by the row check.
    k5 = found[IDENTITY["1960049"]].get_content().replace("\r\n", "\n")
    assert re.search(r"Code INSEE de naissance : 13008 +<- à vérifier en priorité", k5)
    assert "Commune de naissance : Marseille" in k5
    # A code the holder cannot know is not asked for when it was not deposited.
    assert "Code postal de naissance" not in k5
    # K3: birth name level; its birthplace lines are shown but not to check.
    k3 = found[IDENTITY["1960020"]].get_content().replace("\r\n", "\n")
    assert re.search(r"Nom de naissance : Lefebvre +<- à vérifier", k3)
    assert not re.search(r"Commune de naissance : .*à vérifier", k3)


def test_no_nir_no_other_holder_no_portal_message_in_any_file(tmp_path: Path) -> None:
    # Even a NIR typed in a name column by mistake is masked in the e-mail.
    source = csv_source(tmp_path, changes={"1960034": {"Nom d'usage": "1 82 05 74 010 042 17"}})
    result = run(RECU, "--source", source)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "accuse-recu-courriels"
    everything = every_output(folder) + result.output
    for number in range(1, 25):
        assert _nir(number) not in everything
        assert f"note privée {number}" not in everything
    assert "Aucun titulaire ne correspond" not in everything  # the portal's own wording
    assert "74 010 042" not in everything and "7401004217" not in everything
    assert "Nom d'usage : 1 82 05 •• ••• ••• ••" in every_output(folder)
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for line, message in drafts(folder).items():
        own = rows[line - 2]
        text = (
            message.get_content().replace("\r\n", "\n")
            + str(message["Subject"])
            + str(message["To"])
        )
        for other in rows:
            if other is own:
                continue
            assert other["Courriel"] not in text
            assert not re.search(rf"\b{re.escape(other['Id Technique'])}\b", text)
            full_name = f"{other['Prénom']} {other['Nom de naissance']}"
            if full_name != f"{own['Prénom']} {own['Nom de naissance']}":
                assert full_name not in text


def test_hostile_cells_stay_inert(tmp_path: Path) -> None:
    source = csv_source(
        tmp_path,
        addresses={
            "1960020": "lea@exemple.fr",
            "1960034": "bastien@exemple.fr\nBcc: espion@pirate.fr",
            "1960049": "ines@exemple.fr; espion@pirate.fr",
            "1960059": "",
        },
        changes={
            "1960020": {
                "Prénom": '=HYPERLINK("http://pirate.fr","Léa")',
                "Nom de naissance": "Lefebvre\r\nBcc: espion@pirate.fr\u202e",
                "Code": "RNCP34567\nBcc: espion@pirate.fr",
            },
        },
    )
    result = run(RECU, "--source", source)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "accuse-recu-courriels"
    found = drafts(folder)
    assert sorted(found) == [IDENTITY["1960020"]]  # the only usable address
    message = found[IDENTITY["1960020"]]
    assert set(message.keys()) == EXPECTED_HEADERS
    assert message["To"] == "lea@exemple.fr"
    raw_headers = (folder / "courriel-ligne-8.eml").read_bytes().split(b"\r\n\r\n")[0]
    assert b"pirate" not in raw_headers.replace(b"\r\n ", b" ").split(b"Subject:")[0]
    assert "\n" not in str(message["Subject"])
    body = message.get_content().replace("\r\n", "\n")
    assert not any(line.startswith("Bcc:") for line in body.splitlines())
    assert "Nom de naissance : Lefebvre Bcc: espion@pirate.fr\\u202e" in body
    # Listed, never mailed: the cell with a line break, the two addresses, the empty one.
    out = result.stdout
    assert "Adresse inutilisable" in out and ": 2" in out
    # (the line breaks inside cells push the csv lines of the rows below them down)
    assert re.search(r"\(id 1960034\) : .*bastien@exemple.fr\\u000aBcc.*caractère invisible", out)
    assert re.search(r"\(id 1960049\) : .*plusieurs adresses dans la cellule", out)
    assert re.search(r"Sans adresse, à contacter autrement : 1\n +ligne \d+ — Thomas Martin", out)
    # The mail merge: the formula-like name is text for a spreadsheet.
    merged = mailing(folder)
    assert len(merged) == 1
    assert merged[0]["Nom"].startswith("'=HYPERLINK(")
    assert merged[0]["Courriel"] == "lea@exemple.fr"


@pytest.mark.parametrize(
    ("cell", "address", "problem"),
    [
        ("jean.dupont@exemple.fr", "jean.dupont@exemple.fr", None),
        ("  Jean.Dupont+cpf@sous.exemple.fr ", "Jean.Dupont+cpf@sous.exemple.fr", None),
        (None, None, "sans_adresse"),
        ("   ", None, "sans_adresse"),
        ("a@exemple.fr, b@exemple.fr", None, "plusieurs_adresses"),
        ("a@exemple.fr b@exemple.fr", None, "plusieurs_adresses"),
        ("a@exemple.fr\r\nBcc: b@exemple.fr", None, "caracteres_interdits"),
        ("a@exemple\u2028.fr", None, "caracteres_interdits"),
        ("Jean <a@exemple.fr>", None, "adresse_invalide"),
        ("a@exemple", None, "adresse_invalide"),
        ("a..b@exemple.fr", None, "adresse_invalide"),
        ("hélène@exemple.fr", None, "adresse_invalide"),
        ("a@-exemple.fr", None, "adresse_invalide"),
        (33612345678, None, "adresse_invalide"),
        ("a" * 65 + "@exemple.fr", None, "adresse_invalide"),
        ("a@" + "b" * 300 + ".fr", None, "adresse_invalide"),
    ],
)
def test_address_form(cell: CellValue, address: str | None, problem: str | None) -> None:
    assert check_address(cell) == (address, problem)


# --- where the addresses are --------------------------------------------------------------------


def test_email_headers_recognised_without_breaking_the_others() -> None:
    for header in ("Courriel", "E-mail", "Email", "e_mail", "Adresse électronique", "Mail"):
        assert field_for_header(header) == "courriel", header
    assert field_for_header("Nom") == "nomNaissance"
    assert field_for_header("8.1") == "nomNaissance"
    assert field_for_header("Id Technique") == "idTechnique"
    assert not is_dictionary_id("")
    assert not is_dictionary_id("Courriel")


def test_email_column_is_never_deposited() -> None:
    from accuse.fix.checks import converted
    from accuse.read.sources.flux import COLUMNS

    assert "courriel" not in COLUMNS
    values, _ = converted({"courriel": "a@exemple.fr"}, 1, "x")
    assert "courriel" not in values


def _sheet_with_column(path: Path, header_row: int, header: str, first: int, target: Path) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    column = sheet.max_column + 1
    sheet.cell(header_row, column, header)
    for row in range(first, sheet.max_row + 1):
        sheet.cell(row, column, f"ligne{row}@exemple.fr")
    book.save(target)


def test_flat_workbook_with_its_own_header_name(tmp_path: Path) -> None:
    source = tmp_path / "titulaires.xlsx"
    _sheet_with_column(FIXTURES / "source-plat.xlsx", 1, "Adresse électronique", 2, source)
    result = run(RECU, "--source", source, "--sortie", tmp_path / "brouillons")
    assert result.exit_code == 0, result.output
    found = drafts(tmp_path / "brouillons")
    assert sorted(found) == sorted(IDENTITY.values())
    assert found[13]["To"] == "ligne13@exemple.fr"
    assert "« Adresse électronique »" in result.stdout


def test_official_template_with_an_added_email_column(tmp_path: Path) -> None:
    source = tmp_path / "modele.xlsx"
    # The template's labels are on row 13 and its data start on row 21.
    _sheet_with_column(FIXTURES / "source-modele.xlsx", 13, "E-mail", 21, source)
    result = run(RECU, "--source", source)
    assert result.exit_code == 0, result.output
    found = drafts(tmp_path / "accuse-recu-courriels")
    assert sorted(found) == [27, 32, 37, 40]  # rows of the template (fixtures/README.md)
    assert found[32]["To"] == "ligne32@exemple.fr"


def test_column_named_on_the_command_line(tmp_path: Path) -> None:
    source = csv_source(tmp_path, header="Contact du titulaire")
    result = run(RECU, "--source", source, "--colonne-courriel", "contact du titulaire")
    assert result.exit_code == 0, result.output
    assert len(drafts(tmp_path / "accuse-recu-courriels")) == 4


# --- bad input: one French sentence, exit 2, nothing written ------------------------------------


def test_unknown_column_named(tmp_path: Path) -> None:
    result = run(RECU, "--source", csv_source(tmp_path), "--colonne-courriel", "Mél perso")
    assert result.exit_code == 2
    assert "titulaires.csv : aucune colonne « Mél perso » (--colonne-courriel)" in result.output
    assert not (tmp_path / "accuse-recu-courriels").exists()


def test_source_without_any_email_column(tmp_path: Path) -> None:
    result = run(RECU, "--source", FIXTURES / "source.csv")
    assert result.exit_code == 2
    assert "source.csv : aucune colonne d'adresse électronique" in result.output
    assert "--colonne-courriel" in result.output
    assert not (tmp_path / "accuse-recu-courriels").exists()


def test_output_never_over_an_input(tmp_path: Path) -> None:
    source = csv_source(tmp_path)
    before = source.read_bytes()
    result = run(RECU, "--source", source, "--sortie", source)
    assert result.exit_code == 2
    assert "l'un de vos fichiers d'entrée" in result.output
    assert source.read_bytes() == before


def test_bad_sender(tmp_path: Path) -> None:
    source = csv_source(tmp_path)
    result = run(RECU, "--source", source, "--expediteur", "moi@exemple.fr\nBcc: x@y.fr")
    assert result.exit_code == 2
    assert "--expediteur attend une seule adresse" in result.output
    assert not (tmp_path / "accuse-recu-courriels").exists()


def test_sender_given(tmp_path: Path) -> None:
    result = run(RECU, "--source", csv_source(tmp_path), "--expediteur", "scolarite@exemple.fr")
    assert result.exit_code == 0, result.output
    for message in drafts(tmp_path / "accuse-recu-courriels").values():
        assert message["From"] == "scolarite@exemple.fr"


def test_whole_file_rejection_has_no_holder_to_ask(tmp_path: Path) -> None:
    result = run(FIXTURES / "recu-rejet.xml", "--source", csv_source(tmp_path))
    assert result.exit_code == 0, result.output
    assert "rejette le fichier entier" in result.stdout
    assert not (tmp_path / "accuse-recu-rejet-courriels").exists()


# --- the user's own templates -------------------------------------------------------------------


def _own_template(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "config" / "accuse"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# Every variable the README documents, so the documentation and the code cannot drift apart.
DOCUMENTED = [
    "prenom",
    "nom",
    "nom_usage",
    "certification",
    "identite",
    "a_verifier",
    "signales",
    "famille",
    "famille_titre",
    "identifiant",
    "ligne",
    "courriel",
    "passages",
    "certifications",
]


def test_documented_variables_are_the_ones_given(tmp_path: Path) -> None:
    from accuse.pipeline.analysis import analyse
    from accuse.pipeline.holders import address_column, plan_mails
    from accuse.render.courriels import template_context

    result = analyse(RECU, csv_source(tmp_path))
    assert result.source is not None
    plan = plan_mails(result, address_column(result.source, None))
    context = template_context(plan.drafts[0])
    assert sorted(context) == sorted(DOCUMENTED)
    lines = context["identite"]
    assert isinstance(lines, list)
    assert sorted(lines[0]) == ["a_verifier", "libelle", "renseigne", "signale", "valeur"]
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    for name in DOCUMENTED:
        assert f"`{name}`" in readme, name
    for name in ("libelle", "valeur", "renseigne", "a_verifier", "signale"):
        assert f"`{name}`" in readme, name


def test_own_template_replaces_the_wording(tmp_path: Path) -> None:
    body = "".join(f"{name}={{{{ {name} }}}}\n" for name in DOCUMENTED)
    _own_template(
        tmp_path,
        "courriel.txt.j2",
        "Objet : Vérification pour {{ certification }}\n\nCher {{ prenom }},\n"
        + body
        + "{% for l in identite %}{{ l.libelle }}|{{ l.valeur }}|{{ l.renseigne }}|"
        "{{ l.a_verifier }}|{{ l.signale }}\n{% endfor %}",
    )
    # One family has its own wording; the others fall back on courriel.txt.j2 above.
    _own_template(
        tmp_path,
        "courriel-TITULAIRES_MULTIPLES.txt.j2",
        "Objet : Plusieurs personnes\n\nBonjour {{ prenom }}, il nous manque des informations.\n",
    )
    result = run(RECU, "--source", csv_source(tmp_path))
    assert result.exit_code == 0, result.output
    found = drafts(tmp_path / "accuse-recu-courriels")
    k4 = found[13]
    assert k4["Subject"] == "Vérification pour RNCP34567"
    text = k4.get_content().replace("\r\n", "\n")
    assert text.startswith("Cher Bastien,\n")
    assert "famille=TITULAIRE_INTROUVABLE_N2" in text
    assert "courriel=titulaire12@exemple.fr" in text
    assert "Date de naissance (jour/mois/année)|10/5/1982|True|True|True" in text
    assert found[21]["Subject"] == "Plusieurs personnes"
    assert (
        found[21].get_content().replace("\r\n", "\n")
        == "Bonjour Thomas, il nous manque des informations.\n"
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Objet : x\n{% if %}", "erreur de syntaxe ligne 2"),
        ("Objet : {{ nir }}\n", "variable inconnue « nir »"),
        ("Bonjour {{ prenom }}\n", "sa première ligne doit être « Objet : … »"),
        ("Objet : {{ ''.__class__.__mro__ }}\n", "modèle de courriel inutilisable"),
    ],
)
def test_bad_own_template_writes_nothing(tmp_path: Path, text: str, said: str) -> None:
    _own_template(tmp_path, "courriel.txt.j2", text)
    result = run(RECU, "--source", csv_source(tmp_path))
    assert result.exit_code == 2, result.output
    assert "courriel.txt.j2" in result.output
    assert said in result.output
    assert not (tmp_path / "accuse-recu-courriels").exists()


def test_identity_data_names_known_fields_and_families() -> None:
    from accuse.reference.catalogue import load_shipped
    from accuse.reference.fields import by_key
    from accuse.reference.identity import holder_mail_data

    data = holder_mail_data()
    assert all(key in by_key() for line in data.lines for key in line.keys)
    assert all(load_shipped().get(code) is not None for code in data.families)
    assert [line.label for line in data.lines][:3] == [
        "Nom de naissance",
        "Nom d'usage",
        "Premier prénom",
    ]


def test_unwritable_output_folder(tmp_path: Path) -> None:
    result = run(RECU, "--source", csv_source(tmp_path), "--sortie", "/sys/accuse-courriels")
    assert result.exit_code == 2, result.output
    assert "écriture impossible" in result.output
    assert "Traceback" not in result.output


def test_drafts_of_an_earlier_run_are_pointed_out(tmp_path: Path) -> None:
    folder = tmp_path / "brouillons"
    first = run(RECU, "--source", csv_source(tmp_path), "--sortie", folder)
    assert first.exit_code == 0, first.output
    # The holder of line 8 is no longer to be mailed (no address): their old draft stays, said.
    again = run(
        RECU, "--source", csv_source(tmp_path, addresses={"1960020": ""}), "--sortie", folder
    )
    assert again.exit_code == 0, again.output
    assert "Attention : 1 brouillon(s) d'une exécution précédente" in again.stdout
    assert "courriel-ligne-8.eml" in again.stdout
    assert len(mailing(folder)) == 3


def test_from_python(tmp_path: Path) -> None:
    import accuse

    analysis = accuse.analyse(RECU, csv_source(tmp_path))
    own = _own_template(tmp_path, "courriel.txt.j2", "Objet : {{ prenom }}\n\nCorps\n")
    outcome = accuse.draft_mails(analysis, tmp_path / "api", templates=own.parent)
    assert isinstance(outcome, accuse.MailDrafts)
    assert outcome.written is not None
    assert sorted(p.name for p in outcome.written.drafts) == [
        f"courriel-ligne-{line}.eml" for line in sorted(IDENTITY.values(), key=str)
    ]
    assert {d.subject for d in outcome.drafts} == {"Léa", "Bastien", "Inès", "Thomas"}
    assert len(outcome.plan.not_holders) == 3
    # Without templates, the shipped wording: nothing of the user's folder is read.
    shipped = accuse.draft_mails(analysis, tmp_path / "api2")
    assert all("état civil" in d.subject for d in shipped.drafts)
