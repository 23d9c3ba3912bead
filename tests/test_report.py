"""rapport.html without a browser: structure, escaping, self-containment, the facts shown."""

from __future__ import annotations

import csv
import io
import json
import re
from importlib import resources
from pathlib import Path

import lxml.html
import pytest

from accuse.errors import InputError
from accuse.pipeline.analysis import Analysis, analyse
from accuse.pipeline.summary import verdict
from accuse.render.html import environment, render_report, write_report
from tests.conftest import FIXTURES, write

HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
HEADER = "Id Technique;Nom de naissance;Prénom;Année de naissance;Mois de naissance;Jour de naissance;Sexe;Code Insee"
UNKNOWN = "Aucun titulaire ne correspond aux critères obligatoires"


def receipt_xml(ko: list[tuple[str, str]], ok: list[str]) -> str:
    passages = "".join(
        f"<passage><idTechnique>{i}</idTechnique><messageErreur>{m}</messageErreur></passage>"
        for i, m in ko
    )
    accepted = "".join(f"<idTechnique>{i}</idTechnique>" for i in ok)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rapport>\n<nomFichier>flux-essai.xml</nomFichier>\n'
        "<idFlux>11111111-2222-4333-8444-555555555555</idFlux>\n<idTraitement>777</idTraitement>\n"
        f"<PassagesKO>{passages}</PassagesKO>\n<PassagesOK>{accepted}</PassagesOK>\n</rapport>\n"
    )


def hostile_set(tmp_path: Path) -> tuple[Path, Path]:
    """A receipt and a csv source whose holders (and one id) are written to attack the page."""
    rows = [
        ["H1", HOSTILE[0], "Zoé", "1990", "5", "10", "F", "75056"],
        ["H2", HOSTILE[1], "Léa", "1991", "6", "11", "F", "69123"],
        ["H3", "Martin", "</script><script>alert(2)</script>", "1992", "7", "12", "M", "13055"],
        ["H4", "Petit", "Jean & Cie", "1993", "8", "13", "M", "31555"],
        ["ABSENT1", "Absent", "Anne", "1994", "9", "14", "F", "33063"],
        ["OK1", "Bien", "Paul", "1995", "1", "2", "M", "44109"],
    ]
    lines = io.StringIO()
    csv.writer(lines, delimiter=";", lineterminator="\n").writerows([HEADER.split(";"), *rows])
    source = write(tmp_path / "source.csv", lines.getvalue())
    ko = [
        ("H1", UNKNOWN),
        ("H2", UNKNOWN),
        ("H3", UNKNOWN),
        ("H4", f"Message jamais vu {HOSTILE[1]}"),
        ("INCONNU<b>9</b>", UNKNOWN),
    ]
    ko_xml = [(i.replace("<", "&lt;").replace(">", "&gt;"), m) for i, m in ko]
    ko_xml = [
        (i, m.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")) for i, m in ko_xml
    ]
    receipt = write(tmp_path / "recu.xml", receipt_xml(ko_xml, ["OK1"]))
    return receipt, source


@pytest.fixture(scope="module")
def passages() -> Analysis:
    return analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx")


@pytest.fixture(scope="module")
def whole_file() -> Analysis:
    return analyse(FIXTURES / "recu-rejet.xml", FIXTURES / "flux.xml")


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def embedded(doc: lxml.html.HtmlElement) -> dict:
    (data,) = doc.xpath('//script[@type="application/json"][@id="donnees"]')
    return json.loads(data.text)


def test_templates_are_packaged() -> None:
    folder = resources.files("accuse.templates")
    for name in ("rapport.html.j2", "rapport.css", "rapport.js"):
        assert folder.joinpath(name).is_file(), name
    assert environment().autoescape is True


def test_page_is_french_and_self_contained(passages: Analysis) -> None:
    page = render_report(passages)
    doc = parse(page)
    assert doc.get("lang") == "fr"
    assert doc.xpath("//meta[@charset]")[0].get("charset") == "utf-8"
    assert not doc.xpath("//link | //iframe | //object | //embed | //img")
    assert not doc.xpath("//*[@src]"), "no element may load anything"
    for element in doc.xpath("//*[@href]"):
        assert element.get("href").startswith("#"), element.get("href")
    scripts = doc.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/json", None]
    assert len(doc.xpath("//style")) == 1
    assert not re.search(r"url\(|@import|@font-face", page), "no fetched resource in the CSS"
    assert not re.search(r"https?://", page.split('id="donnees"')[0])


def test_verdict_and_identity(passages: Analysis) -> None:
    doc = parse(render_report(passages))
    assert text(doc.get_element_by_id("verdict")) == verdict(passages)
    assert "7 passages sur 24 ont été refusés" in verdict(passages)
    identity = {text(d.find("dt")): text(d.find("dd")) for d in doc.xpath("//dl/div")}
    assert identity["Fichier déposé"] == "flux.xml"
    assert identity["idFlux"] == "b4093df2-13f5-4b7f-ba7e-3140cfd9000f"
    assert identity["idTraitement"] == "54169"
    assert identity["Fichier source"].startswith("source-plat.xlsx, feuille « Titulaires »")
    assert re.fullmatch(r"\d{1,2} \w+ \d{4} à \d{1,2} h \d\d", identity["Date de l'analyse"])
    counts = {
        text(r.find("th")): text(r.find("td")) for r in doc.xpath("//table[@class='compteurs']//tr")
    }
    assert counts["Passages acceptés"] == "17"
    assert counts["Passages refusés"] == "7"
    assert "70,8" in text(doc.find_class("taux")[0])


def test_one_section_per_family_most_frequent_first(passages: Analysis) -> None:
    doc = parse(render_report(passages))
    sections = doc.xpath("//section[contains(@class, 'famille')]")
    assert [s.get("data-code") for s in sections] == [e.code for e, _ in passages.families()]
    for section, (entry, count) in zip(sections, passages.families(), strict=True):
        assert entry.titre in text(section.find("h2"))
        assert " ".join(entry.explication.split()) in text(section)
        actions = section.xpath(".//ol[@class='actions']/li")
        assert [text(a) for a in actions] == list(entry.actions)
        assert len(section.xpath(".//tbody[@class='lignes']/tr")) == count
    chart = doc.xpath("//figure[@class='graphique']//svg//g[contains(@class, 'barre')]")
    assert len(chart) == len(passages.families())


def test_rows_show_line_holder_highlighted_fields_and_findings(passages: Analysis) -> None:
    doc = parse(render_report(passages))
    rows = {text(tr.find_class("id")[0]): tr for tr in doc.xpath("//tbody[@class='lignes']/tr")}
    assert set(rows) == {r.idTechnique for r in passages.rejected}
    certification = rows["1960012"]
    assert text(certification.find_class("num")[0]) == "6"
    marked = [text(m) for m in certification.xpath(".//mark")]
    assert "34567" in marked, "the catalogue's champs (code) are highlighted"
    assert "n'a pas de préfixe" in text(certification.find_class("constats")[0])
    swapped = rows["1960034"]
    birth = text(swapped.find_class("naissance")[0])
    assert "10/5/" in birth or "10/05/" in birth
    assert {"10", "5"} <= {text(m) for m in swapped.xpath(".//mark")}
    assert "Lefebvre" in text(rows["1960020"].find_class("titulaire")[0])
    dates = rows["1960071"]
    others = text(dates.find_class("autres")[0])
    assert "Date Debut Validite 12/03/2022" in others
    assert "Date Fin Validite 22/11/2021" in others
    assert {"12/03/2022", "22/11/2021"} <= {text(m) for m in dates.xpath(".//mark")}


def test_whole_file_rejection(whole_file: Analysis) -> None:
    doc = parse(render_report(whole_file))
    assert text(doc.get_element_by_id("verdict")) == verdict(whole_file)
    errors = doc.get_element_by_id("erreurs")
    assert "100 premières erreurs" in text(errors)
    rows = errors.xpath(".//tbody/tr")
    assert [text(r[1]) for r in rows] == ["2", "198", "198", "369", "611", "853"]
    passages = [text(r[-1]) for r in rows]
    assert passages[0] == "hors passage"
    assert [p.split()[0] for p in passages[1:]] == [
        "1960012",
        "1960012",
        "0000-0010",
        "1960043",
        "1960059",
    ]
    assert text(rows[1][4]) == "sexe" and text(rows[1][5]) == "H"
    assert text(rows[4][5]) == "7505"
    assert "Valeur hors de la liste autorisée" in text(rows[1])
    sections = doc.xpath("//section[contains(@class, 'famille')]")
    assert [s.get("data-code") for s in sections] == [e.code for e, _ in whole_file.families()]
    assert "Redéposez le fichier entier." in text(sections[0])


def test_receipt_alone_has_no_source_columns() -> None:
    analysis = analyse(FIXTURES / "recu.xml")
    doc = parse(render_report(analysis))
    headers = [text(th) for th in doc.xpath("//section[@id='famille-1']//thead//th")]
    assert headers == ["Identifiant technique", "Constats"]
    identity = text(doc.xpath("//dl")[0])
    assert "aucun : l'accusé a été analysé seul" in identity


def test_hostile_data_shows_as_text(tmp_path: Path) -> None:
    analysis = analyse(*hostile_set(tmp_path))
    # rows_shown=1: most rows travel in the JSON, whose escaping is tested too.
    page = render_report(analysis, rows_shown=1)
    doc = parse(page)
    assert not doc.xpath("//img | //*[@onerror]")
    assert len(doc.xpath("//script")) == 2
    json_part = page.split('id="donnees">')[1].split("</script>")[0]
    assert "<" not in json_part and ">" not in json_part and "&" not in json_part
    data = embedded(doc)
    shown = json.dumps(data, ensure_ascii=False) + text(doc)
    for name in (*HOSTILE, "</script><script>alert(2)</script>", "Jean & Cie"):
        assert name in shown, name
    assert HOSTILE[0] in text(doc), "the first row is written as HTML, as text"
    assert "INCONNU<b>9</b>" in text(doc.get_element_by_id("rapprochement"))


def test_unmatched_absent_and_duplicates(tmp_path: Path) -> None:
    analysis = analyse(*hostile_set(tmp_path))
    section = parse(render_report(analysis)).get_element_by_id("rapprochement")
    content = text(section)
    assert "Refus introuvables dans votre fichier (1)" in content
    assert "Lignes de votre fichier absentes de l'accusé (1)" in content
    assert "ABSENT1" in content and "6" in [text(td) for td in section.xpath(".//td")]


def test_large_families_are_paged_through_embedded_data(passages: Analysis) -> None:
    many = analyse(FIXTURES / "recu.xml", FIXTURES / "source.csv")
    only = [r for r in many.rejected if r.code == "DOUBLON"]
    many.rejected = only * 5  # one family of five rows
    doc = parse(render_report(many, rows_shown=2))
    section = doc.get_element_by_id("famille-1")
    assert len(section.xpath(".//tbody/tr")) == 2
    assert "3 autres passages de cette famille" in text(section.find_class("suite")[0])
    data = embedded(doc)
    assert len(data["familles"]["1"]) == 3 and data["parPage"] == 2
    row = data["familles"]["1"][0]
    assert row[2] == "202301-1" and data["textes"][row[8][0]].startswith("Cet identifiant")


def test_write_report_is_atomic_and_never_over_an_input(tmp_path: Path, passages: Analysis) -> None:
    target = tmp_path / "rapport.html"
    assert write_report(passages, target, [FIXTURES / "recu.xml"]) == target
    assert target.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.html"]
    receipt = write(tmp_path / "recu.xml", (FIXTURES / "recu.xml").read_text("utf-8"))
    with pytest.raises(InputError):
        write_report(passages, receipt, [receipt])
    assert receipt.read_text("utf-8") == (FIXTURES / "recu.xml").read_text("utf-8")


def test_empty_receipt_does_not_break_the_page() -> None:
    analysis = analyse(FIXTURES / "recu-vide.xml")
    doc = parse(render_report(analysis))
    assert text(doc.get_element_by_id("verdict")) == verdict(analysis)
    assert not doc.xpath("//section[contains(@class, 'famille')]")
