"""`accuse generer`: a valid flux from a flat sheet and from the official template v1.4, that
round-trips through `accuse analyse`; blocking problems stop it; history, codes, splitting,
never overwriting."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from typer.testing import CliRunner

from accuse.cli.app import app
from tests.conftest import ROOT, SHARED
from tests.verify_support import clean_passage, generator, planted, write

TODAY = dt.date.today()
NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ACCUSE_DEPOSANT", str(tmp_path / "config" / "deposant.toml"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def schemas() -> dict[str, etree.XMLSchema]:
    """Every XSD at hand: the shipped ones, and the CDC's 2026 one when ../shared is there."""
    paths = {p.stem.removeprefix("flux-xsd-"): p for p in (ROOT / "accuse/data").glob("*.xsd")}
    for name in ("flux-xsd-1.1.2.xsd", "flux-xsd-1.1.5.xsd"):
        if (SHARED / name).is_file():
            paths.setdefault(name.removeprefix("flux-xsd-").removesuffix(".xsd"), SHARED / name)
    return {v: etree.XMLSchema(etree.parse(str(p))) for v, p in sorted(paths.items())}


def assert_valid(path: Path) -> etree._ElementTree:
    tree = etree.parse(str(path))
    for version, schema in schemas().items():
        assert schema.validate(tree), (version, list(schema.error_log)[:3])
    return tree


def _passages() -> list[dict]:
    gen = generator()
    rows = [clean_passage(f"G-{n}", TODAY) for n in range(1, 5)]
    rows[1].update(modaliteAcces="VAE", voieAccessVAE="CONGES_VAE")
    rows[2].update(
        modaliteAcces="EQUIVALENCE_DIPLOME_ETRANGER",
        presenceNiveauLangueEuro=True,
        niveauLangueEuropeen="B2",
        dateFinValidite=TODAY + dt.timedelta(days=900),
        codeInsee="01053",
        libelleCommuneNaissance="Bourg-en-Bresse",
    )
    rows[3].update(
        type="RS",
        code="RS5678",
        natureDeposant="TIERS_CONFIANCE",
        nomUsage="Martin",
        mentionValidee="MENTION_BIEN",
    )
    rows[3]["idTechnique"] = "1979262"
    assert gen.NIL is rows[0]["dateFinValidite"]
    return rows


def _receipt(tmp_path: Path, flux: Path, ko: str, ok: list[str]) -> Path:
    path = tmp_path / "recu.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rapport>'
        f"<nomFichier>{flux.name}</nomFichier><PassagesKO><passage><idTechnique>{ko}"
        "</idTechnique><messageErreur>Aucun titulaire ne correspond aux critères obligatoires"
        "</messageErreur></passage></PassagesKO><PassagesOK>"
        + "".join(f"<idTechnique>{i}</idTechnique>" for i in ok)
        + "</PassagesOK></rapport>",
        "utf-8",
    )
    return path


def test_flat_sheet_gives_a_valid_flux_that_round_trips_through_analyse(tmp_path: Path):
    rows = _passages()
    source = write("plat", rows, tmp_path / "src")
    result = run("generer", str(source), "--sans-historique")
    assert result.exit_code == 0, result.output
    flux = source.with_name("source-plat-flux.xml")
    assert f"Écrit : {flux} (4 passage(s), schéma 1.1.2)" in result.stdout.replace("\n", "")
    tree = assert_valid(flux)
    ids = tree.xpath("//cpf:passageCertification/cpf:idTechnique/text()", namespaces=NS)
    assert sorted(ids) == sorted(p["idTechnique"] for p in rows)
    assert tree.xpath("//cpf:voieAccessVAE/text()", namespaces=NS) == ["CONGES_VAE"]
    assert tree.xpath("//cpf:codeInsee/text()", namespaces=NS).count("01053") == 1
    # Round trip: the generated flux is a source accuse analyse joins to a receipt.
    receipt = _receipt(tmp_path, flux, "G-3", ["G-1", "G-2", "1979262"])
    analysed = run(
        "analyse", str(receipt), "--source", str(flux), "--format", "json", "--sans-sortie"
    )
    assert analysed.exit_code == 1, analysed.output
    doc = json.loads(analysed.stdout)
    assert doc["source"]["lignes"] == 4
    assert doc["introuvables"] == [] and doc["absents_accuse"] == []
    (rejected,) = doc["ko"]
    values = rejected["valeurs"]
    assert rejected["idTechnique"] == "G-3" and rejected["ligne_source"] is not None
    assert (values["codeInsee"], values["libelleCommuneNaissance"]) == ("01053", "Bourg-en-Bresse")
    assert (values["presenceNiveauLangueEuro"], values["niveauLangueEuropeen"]) == ("true", "B2")
    assert values["dateDebutValidite"] == (TODAY - dt.timedelta(days=20)).isoformat()
    assert values["dateFinValidite"] == (TODAY + dt.timedelta(days=900)).isoformat()
    # And the flux verifies as clean as its sheet.
    checked = run("verifier", str(flux), "--format", "json", "--sans-sortie", "--sans-historique")
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["problemes"] == []


def test_official_template_v14_gives_a_valid_flux(tmp_path: Path, shared: Path):
    template = tmp_path / "modele.xlsx"
    shutil.copy(shared / "modele-excel-accrochage-certificateurs-1.4.xlsx", template)
    book = openpyxl.load_workbook(template)
    sheet = book["Tableau declaration"]
    columns = {str(cell.value).strip(): cell.column for cell in sheet[12] if cell.value is not None}
    gen = generator()
    rows = _passages()
    for offset, passage in enumerate(rows):
        for key, _id, _label in gen.TEMPLATE_COLUMNS:
            if key not in passage or key in ("idFlux", "horodatage"):
                continue
            value = gen._sheet_value(key, passage[key])
            value = (
                {
                    "TIERS_CONFIANCE": "TIERS_DE_CONFIANCE",
                    "EQUIVALENCE_DIPLOME_ETRANGER": "EQUIVALENCE_(DIPLOME_ETRANGER)",
                }.get(value, value)
                if isinstance(value, str)
                else value
            )
            sheet.cell(row=21 + offset, column=columns[_id], value=value)
    book.save(template)
    result = run("generer", str(template), "--sans-historique", "--sortie", "depot.xml")
    assert result.exit_code == 0, result.output
    tree = assert_valid(tmp_path / "depot.xml")
    assert len(tree.xpath("//cpf:passageCertification", namespaces=NS)) == 4
    assert "TIERS_CONFIANCE" in tree.xpath("//cpf:natureDeposant/text()", namespaces=NS)
    assert (
        tree.xpath("//cpf:modaliteAcces/text()", namespaces=NS).count(
            "EQUIVALENCE_DIPLOME_ETRANGER"
        )
        == 1
    )
    assert set(tree.xpath("//cpf:donneeCertifiee/text()", namespaces=NS)) == {"true"}
    nil_end = tree.xpath("//cpf:dateFinValidite", namespaces=NS)
    assert sum(1 for e in nil_end if e.get(XSI_NIL) == "true") == 3
    start = tree.xpath("//cpf:dateDebutValidite/text()", namespaces=NS)[0]
    assert start == (TODAY - dt.timedelta(days=20)).isoformat()  # an Excel date cell


def test_blocking_problems_stop_it_unless_forced(tmp_path: Path):
    rows, _ = planted(TODAY)
    source = write("csv", rows, tmp_path)
    target = tmp_path / "depot.xml"
    blocked = run("generer", str(source), "--sans-historique", "--sortie", str(target))
    assert blocked.exit_code == 1, blocked.output
    assert "Rien n'a été écrit" in blocked.stdout and "À corriger avant le dépôt" in blocked.stdout
    assert not target.exists()
    forced = run("generer", str(source), "--sans-historique", "--sortie", str(target), "--forcer")
    assert forced.exit_code == 0, forced.output
    assert "Attention (--forcer)" in forced.stdout
    assert target.exists()


def test_passages_already_accepted_are_left_out_and_listed(tmp_path: Path):
    history = tmp_path / "h.sqlite"
    old = tmp_path / "ancien.xml"
    old.write_text(
        "<rapport><nomFichier>a.xml</nomFichier><PassagesOK><idTechnique>G-2</idTechnique>"
        "</PassagesOK></rapport>",
        "utf-8",
    )
    assert run("analyse", str(old), "--sans-sortie", "--historique", str(history)).exit_code == 0
    source = write("csv", _passages(), tmp_path / "src")
    result = run("generer", str(source), "--historique", str(history), "--sortie", "d.xml")
    assert result.exit_code == 0, result.output
    assert "laissés de côté (1) : ligne 3 (G-2)" in result.stdout
    tree = assert_valid(tmp_path / "d.xml")
    ids = tree.xpath("//cpf:idTechnique/text()", namespaces=NS)
    assert "G-2" not in ids and len(ids) == 3


def test_codes_from_options_are_remembered_for_next_time(tmp_path: Path):
    rows = _passages()
    for passage in rows:
        for key in ("idClientEmetteur", "idClientCertificateur", "idContrat"):
            passage.pop(key)
    source = write("csv", rows, tmp_path / "src")
    missing = run("generer", str(source), "--sans-historique", "--sortie", "a.xml")
    assert missing.exit_code == 1
    assert "--id-client-certificateur" in missing.stdout
    given = run(
        "generer",
        str(source),
        "--sans-historique",
        "--sortie",
        "b.xml",
        "--id-client",
        "12ABC345",
        "--id-client-certificateur",
        "98ZYX765",
        "--id-contrat",
        "CONTRAT-1",
    )
    assert given.exit_code == 0, given.output
    config = tmp_path / "config" / "deposant.toml"
    assert f"retenus pour la prochaine fois dans {config}" in given.stdout.replace("\n", "")
    again = run("generer", str(source), "--sans-historique", "--sortie", "c.xml")
    assert again.exit_code == 0, again.output
    tree = assert_valid(tmp_path / "c.xml")
    assert tree.xpath("//cpf:emetteur/cpf:idClient/text()", namespaces=NS) == ["12ABC345"]
    assert tree.xpath("//cpf:idContrat/text()", namespaces=NS) == ["CONTRAT-1"]


def test_never_overwrites_without_saying(tmp_path: Path):
    source = write("csv", _passages(), tmp_path / "src")
    target = tmp_path / "d.xml"
    target.write_text("précédent", "utf-8")
    refused = run("generer", str(source), "--sans-historique", "--sortie", str(target))
    assert refused.exit_code == 2
    assert "existe déjà" in refused.stderr and "--remplacer" in refused.stderr
    assert target.read_text("utf-8") == "précédent"
    replaced = run(
        "generer", str(source), "--sans-historique", "--sortie", str(target), "--remplacer"
    )
    assert replaced.exit_code == 0
    assert f"Remplacé (--remplacer) : {target}" in replaced.stdout.replace("\n", "")
    assert_valid(target)
    into_source = run("generer", str(source), "--sans-historique", "--sortie", str(source))
    assert into_source.exit_code == 2


def test_over_the_portal_limits_it_splits_into_valid_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import accuse.fix.generate as generate_module

    monkeypatch.setattr(generate_module, "MAX_PASSAGES", 3)
    rows = [clean_passage(f"S-{n}", TODAY) for n in range(8)]
    source = write("plat", rows, tmp_path / "src")
    result = run("generer", str(source), "--sans-historique", "--sortie", "lot.xml")
    assert result.exit_code == 0, result.output
    files = [tmp_path / f"lot-{n}.xml" for n in (1, 2, 3)]
    trees = [assert_valid(f) for f in files]
    counts = [len(t.xpath("//cpf:passageCertification", namespaces=NS)) for t in trees]
    assert counts == [3, 3, 2]
    flux_ids = {t.xpath("/cpf:flux/cpf:idFlux/text()", namespaces=NS)[0] for t in trees}
    assert len(flux_ids) == 3
    assert "déposez chacun de ces flux" in result.stdout


def test_a_flux_is_not_a_source_for_generer(tmp_path: Path):
    rows = [clean_passage("X-1", TODAY)]
    flux = write("flux", rows, tmp_path)
    result = run("generer", str(flux), "--sans-historique")
    assert result.exit_code == 2
    assert "accuse verifier" in result.stderr


def test_a_nir_column_gives_a_1_1_5_flux_and_the_nir_stays_out_of_the_terminal(tmp_path: Path):
    import csv

    gen = generator()
    rows = [clean_passage("N-1", TODAY), clean_passage("N-2", TODAY)]
    nirs = {"N-1": "2900431555123", "N-2": "2900431555124"}
    path = tmp_path / "nir.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow([h for _k, h in gen.FLAT_COLUMNS] + ["NIR"])
        for p in rows:
            cells = [gen._csv_value(k, p[k]) if k in p else "" for k, _h in gen.FLAT_COLUMNS]
            out.writerow([*cells, nirs[p["idTechnique"]]])
    result = run("generer", str(path), "--sans-historique", "--sortie", "nir.xml")
    assert result.exit_code == 0, result.output
    assert "schéma 1.1.5" in result.stdout
    assert all(n not in result.stdout + result.stderr for n in nirs.values())
    tree = etree.parse(str(tmp_path / "nir.xml"))
    assert schemas()["1.1.5"].validate(tree)
    assert sorted(tree.xpath("//cpf:identifiantNational/cpf:nir/text()", namespaces=NS)) == sorted(
        nirs.values()
    )


def test_an_unwritable_target_folder_is_told_in_french_and_nothing_is_written(tmp_path: Path):
    source = write("csv", [clean_passage("W-1", TODAY)], tmp_path / "src")
    target = tmp_path / "absent" / "lot.xml"
    result = run("generer", str(source), "--sans-historique", "--sortie", str(target))
    assert result.exit_code == 2, result.output
    assert "écriture impossible" in result.output
    assert not target.parent.exists()


def _peak_rss_kb(*args: str) -> int:
    """Peak RSS of one `accuse` subprocess, read from a fresh parent that starts only it."""
    import subprocess
    import sys

    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = [sys.executable, "-c", probe, sys.executable, "-m", "accuse", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


def test_writing_the_flux_adds_almost_nothing_to_the_verifications_memory(tmp_path: Path):
    """The flux is written one passage at a time: between 300 and 2,300 rows, generer's peak
    memory grows like verifier's (which reads and checks the same rows), not by a whole tree
    (the former whole-tree writer added about 14 KB per passage)."""
    growth: dict[str, int] = {}
    peaks: dict[tuple[str, int], int] = {}
    for size in (300, 2300):
        rows = [clean_passage(f"M-{n}", TODAY) for n in range(size)]
        source = write("csv", rows, tmp_path / str(size))
        codes = ("--id-client", "ABCDEFGH", "--id-client-certificateur", "ABCDEFGH")
        peaks["verifier", size] = _peak_rss_kb("verifier", str(source), "--sans-historique")
        peaks["generer", size] = _peak_rss_kb(
            "generer", str(source), "--sans-historique", *codes, "--id-contrat", "C1", "--forcer"
        )
        assert (tmp_path / str(size) / f"{source.stem}-flux.xml").is_file()
    for command in ("verifier", "generer"):
        growth[command] = peaks[command, 2300] - peaks[command, 300]
    # 2,000 more passages: a whole tree would add ~28 MB more than the verification does.
    assert growth["generer"] - growth["verifier"] < 8_000, peaks


def test_rows_and_passages_are_not_all_held_in_memory_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Memory bounded by design, counted: while generer reads, checks and writes 1,500 rows,
    at most a handful of source rows are alive at once (each is checked, then forgotten) and
    at most the size sample of converted passages (the others wait on disk as bytes)."""
    import weakref

    import accuse.fix.checks as checks_module
    import accuse.fix.generate as generate_module
    import accuse.read.sources.table as table_module
    from accuse.reference.catalogue import load_catalogue

    size = 1500
    alive = {"rows": 0, "passages": 0}
    most = {"rows": 0, "passages": 0}

    class Counted(table_module.SourceRow):
        def __init__(self, position: int, ident: str, values: tuple, end: int | None = None):
            super().__init__(position, ident, values, end)
            alive["rows"] += 1
            most["rows"] = max(most["rows"], alive["rows"])
            weakref.finalize(self, _gone, "rows")

    class PassageDict(dict):
        pass

    def _gone(kind: str) -> None:
        alive[kind] -= 1

    real_convert = checks_module.Conversion.convert

    def converting(*args, **kwargs):
        passage, problems = real_convert(*args, **kwargs)
        passage = PassageDict(passage)
        alive["passages"] += 1
        most["passages"] = max(most["passages"], alive["passages"])
        weakref.finalize(passage, _gone, "passages")
        return passage, problems

    monkeypatch.setattr(table_module, "SourceRow", Counted)
    monkeypatch.setattr(checks_module.Conversion, "convert", converting)
    rows = [clean_passage(f"B-{n}", TODAY) for n in range(size)]
    source = write("plat", rows, tmp_path)
    result = generate_module.generate(
        source,
        catalogue=load_catalogue(None),
        ids={
            "idClientEmetteur": "ABCDEFGH",
            "idClientCertificateur": "ABCDEFGH",
            "idContrat": "C1",
        },
        use_history=False,
    )
    assert result.written and result.written[0][1] == size
    tree = assert_valid(result.written[0][0])
    assert len(tree.xpath("//cpf:passageCertification", namespaces=NS)) == size
    assert most["rows"] <= 3, most
    assert most["passages"] <= generate_module._SAMPLE + 3, most


def test_passages_written_as_text_are_the_bytes_of_the_lxml_tree():
    """generer writes each passage as text (fluxwriter.passage_xml): on every branch (NIR,
    CPF dossier, titulaire born in a commune or by postal code, nil values, empty blocks,
    digital level with and without results, SUPPRESSION) and with text to escape, the bytes
    are those lxml serialises from the same passage's tree (build_flux)."""
    from accuse.fix.checks import NIL
    from accuse.fix.fluxwriter import FluxHeader, build_flux, passage_xml
    from accuse.reference.fields import dictionary

    def keys(*parents: str) -> list[str]:
        return [f.key for f in dictionary() if f.parent in parents]

    body = {k: f"{k} & <b> é\r\n" for k in keys("passage", "inscription")}
    body["scoring"] = NIL
    numeric = {k: "7" for k in keys("niveauNumerique")}
    results = {k: "3" for k in keys("resultat")}
    person = {k: f"{k} ' \" >" for k in keys("titulaire")}
    varied = [
        {**body, **numeric, **results, **person, "codePostal": None},
        {**body, **numeric, **person, "codeInsee": None, "codePostal": NIL},
        {**body, **results, **person, "codeInsee": None},
        {**body, **{k: "D" for k in keys("dossier")}},
        {**body, "nir": "1850512345678", "nomNaissance": "Ñandú"},
        {"idTechnique": "SEUL"},
    ]
    header = FluxHeader("ABCDEFGH", "ABCDEFGH", "C1")
    declarations = f' xmlns:cpf="{NS["cpf"]}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    for action in ("CREATION", "SUPPRESSION"):
        tree = build_flux(header, varied, version="1.1.5", action=action)
        made = tree.getroot().iter(f"{{{NS['cpf']}}}passageCertification")
        for passage, element in zip(varied, made, strict=True):
            expected = etree.tostring(element, encoding="UTF-8", pretty_print=True)
            expected = expected.replace(declarations.encode(), b"", 1)
            assert passage_xml(passage, action) == expected
