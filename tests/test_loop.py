"""The correction loop in a user's hands: analyse, edit in Excel, analyse again, re-export,
deposit, analyse the next receipt, follow up. Every step runs the real command in a
subprocess, on copies of the fixtures; edits are made with openpyxl, saved as Excel would."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
from lxml import etree

from accuse.fix.fluxwriter import schema
from accuse.fix.workbook import FIX_HEADER_ROW
from accuse.render.worksheet import SHEET_FIX
from tests.conftest import FIXTURES

NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}


def accuse(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def _copies(tmp_path: Path, *names: str) -> list[Path]:
    return [Path(shutil.copy(FIXTURES / name, tmp_path / name)) for name in names]


def edit(path: Path, changes: dict[str, dict[str, object]]) -> None:
    """Type values into "À corriger" by idTechnique and column header, then save."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1):
        for title, value in changes.get(str(row[1].value), {}).items():
            cell = row[header.index(title)]
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    book.save(path)


def shown(path: Path, identifier: str, title: str) -> object:
    """What the "À corriger" sheet shows for a passage, read back as the user would."""
    sheet = openpyxl.load_workbook(path)[SHEET_FIX]
    rows = list(sheet.iter_rows(min_row=FIX_HEADER_ROW, values_only=True))
    column = rows[0].index(title)
    return next(r[column] for r in rows[1:] if str(r[1]) == identifier)


def kept(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def test_analyse_again_keeps_the_edited_worksheet(tmp_path: Path) -> None:
    receipt, source = _copies(tmp_path, "recu.xml", "source-plat.xlsx")
    out = tmp_path / "sortie"
    first = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert first.returncode == 1, first.stderr
    worksheet = out / "corrections.xlsx"
    edit(worksheet, {"1960012": {"Code": "RNCP34567"}})
    again = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert again.returncode == 1, again.stderr
    # The correction is in the new worksheet, and the edited file is kept under a dated name.
    assert shown(worksheet, "1960012", "Code") == "RNCP34567"
    copies = kept(out, "corrections-avant-*.xlsx")
    assert len(copies) == 1
    assert shown(copies[0], "1960012", "Code") == "RNCP34567"
    assert "reprises dans la nouvelle" in again.stdout
    assert copies[0].name in again.stdout
    # Running the same command once more, nothing typed since: the correction is still
    # there, and no second copy piles up.
    third = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert third.returncode == 1, third.stderr
    assert shown(worksheet, "1960012", "Code") == "RNCP34567"
    assert kept(out, "corrections-avant-*.xlsx") == copies
    # The carried correction still counts as one for the re-export.
    done = accuse("reexporter", worksheet, "--format", "csv")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Lignes corrigées réexportées : 1." in done.stdout


def test_a_correction_for_a_passage_no_longer_rejected_stays_in_the_kept_copy(
    tmp_path: Path,
) -> None:
    receipt, source = _copies(tmp_path, "recu.xml", "source-plat.xlsx")
    out = tmp_path / "sortie"
    accuse("analyse", receipt, "--source", source, "--sortie", out)
    edit(out / "corrections.xlsx", {"1960012": {"Code": "RNCP34567"}})
    # The next receipt into the same folder: 1960012 was accepted this time.
    text = receipt.read_text(encoding="utf-8")
    start = text.index("<passage>\n            <idTechnique>1960012")
    end = text.index("</passage>", start) + len("</passage>")
    other = tmp_path / "recu-suivant.xml"
    other.write_text(text[:start] + text[end:], encoding="utf-8")
    again = accuse("analyse", other, "--source", source, "--sortie", out)
    assert again.returncode == 1, again.stderr
    copies = kept(out, "corrections-avant-*.xlsx")
    assert len(copies) == 1 and shown(copies[0], "1960012", "Code") == "RNCP34567"
    assert "Corrections non reprises" in again.stdout and copies[0].name in again.stdout


def test_unreadable_worksheet_and_changed_report_are_kept_aside(tmp_path: Path) -> None:
    receipt, source = _copies(tmp_path, "recu.xml", "source.csv")
    out = tmp_path / "sortie"
    accuse("analyse", receipt, "--source", source, "--sortie", out)
    # Untouched outputs are simply replaced.
    accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert kept(out, "*-avant-*") == []
    report = out / "rapport.html"
    report.write_text(report.read_text(encoding="utf-8") + "<p>mes notes</p>", encoding="utf-8")
    (out / "corrections.xlsx").write_bytes(b"not a workbook")
    again = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert again.returncode == 1, again.stderr
    [old_report] = kept(out, "rapport-avant-*.html")
    assert "mes notes" in old_report.read_text(encoding="utf-8")
    [old_sheet] = kept(out, "corrections-avant-*.xlsx")
    assert old_sheet.read_bytes() == b"not a workbook"
    assert old_report.name in again.stdout and old_sheet.name in again.stdout


def test_worksheet_still_open_in_excel_is_not_written_over(tmp_path: Path) -> None:
    receipt, source = _copies(tmp_path, "recu.xml", "source.csv")
    out = tmp_path / "sortie"
    accuse("analyse", receipt, "--source", source, "--sortie", out)
    before = (out / "corrections.xlsx").read_bytes()
    (out / "~$corrections.xlsx").write_bytes(b"\0" * 165)
    again = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert again.returncode == 2
    assert "enregistrez et fermez le fichier dans Excel" in again.stderr
    assert (out / "corrections.xlsx").read_bytes() == before


def _next_receipt(receipt: Path, accepted: set[str], target: Path) -> Path:
    """The receipt of the re-deposit: ``accepted`` move from PassagesKO to PassagesOK."""
    tree = etree.parse(str(receipt))
    root = tree.getroot()
    ko = root.find("PassagesKO")
    ok = root.find("PassagesOK")
    assert ko is not None and ok is not None
    for passage in list(ko):
        if passage.findtext("idTechnique") in accepted:
            ko.remove(passage)
    for identifier in sorted(accepted):
        etree.SubElement(ok, "idTechnique").text = identifier
    treatment = root.find("idTraitement")
    assert treatment is not None
    treatment.text = "54170"
    tree.write(str(target), encoding="UTF-8", xml_declaration=True)
    return target


def test_walkthrough_of_the_whole_loop(tmp_path: Path) -> None:
    receipt, source = _copies(tmp_path, "recu.xml", "flux.xml")
    out = tmp_path / "accuse-recu"
    # 1. First analysis.
    first = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert first.returncode == 1, first.stderr
    worksheet = out / "corrections.xlsx"
    # 2. The user corrects two passages in Excel.
    edit(
        worksheet,
        {
            "1960012": {"code": "RNCP34567"},
            "1960071": {"dateFinValidite": dt.datetime(2026, 3, 12)},
        },
    )
    # 3. Analyses again (same command): nothing typed is lost.
    again = accuse("analyse", receipt, "--source", source, "--sortie", out)
    assert again.returncode == 1, again.stderr
    assert shown(worksheet, "1960012", "code") == "RNCP34567"
    assert shown(worksheet, "1960071", "dateFinValidite") == dt.datetime(2026, 3, 12)
    # 4. Re-exports the two corrected passages as a new flux.
    flux = tmp_path / "redepot.xml"
    done = accuse("reexporter", worksheet, "--sortie", flux)
    assert done.returncode == 0, done.stdout + done.stderr
    tree = etree.parse(str(flux))
    assert schema().validate(tree), schema().error_log
    ids = tree.xpath("//cpf:passageCertification/cpf:idTechnique/text()", namespaces=NS)
    assert sorted(ids) == ["1960012", "1960071"]
    # 5. The portal accepts them: the next receipt, analysed with the re-deposited flux.
    second = _next_receipt(receipt, set(ids), tmp_path / "recu-2.xml")
    next_run = accuse("analyse", second, "--source", source, "--sortie", tmp_path / "accuse-recu-2")
    assert next_run.returncode == 1, next_run.stderr
    # 6. Follow-up: the two are resolved, the others still refused, across two deposits.
    follow = accuse("suivi", "--format", "json")
    assert follow.returncode == 0, follow.stderr
    document = json.loads(follow.stdout)
    assert document["synthese"]["accuses"] == 2  # the same receipt analysed twice counts once
    assert sorted(p["idTechnique"] for p in document["resolus"]) == ["1960012", "1960071"]
    still = {p["idTechnique"]: p for p in document["encore_refuses"]}
    assert sorted(still) == ["1960020", "1960034", "1960049", "1960059"]
    assert all(p["depots_refuses"] == 2 for p in still.values())
    table = accuse("suivi")
    assert table.returncode == 0, table.stderr
    assert "1960020" in table.stdout and "1960012" not in table.stdout
