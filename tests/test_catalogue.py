"""The catalogue: every known portal message lands in its family, with what it names."""

from __future__ import annotations

import time
from pathlib import Path

import lxml.html
import pytest

from accuse.errors import InputError
from accuse.pipeline.analysis import analyse
from accuse.reference.catalogue import check_examples, load_catalogue, load_shipped
from accuse.reference.fields import by_key
from accuse.render.html import render_report
from tests.conftest import FIXTURES

PASSAGE_MESSAGES = [
    # K1, and its variants of case, accents, apostrophe and ids
    (
        "Le passage certification avec le bcr émetteur 03VML243 et l'id technique partenaire 1559735 existe déjà en base",
        "DOUBLON",
    ),
    (
        "LE PASSAGE CERTIFICATION AVEC LE BCR EMETTEUR 08UTY888 ET L’ID TECHNIQUE PARTENAIRE 0000-0042 EXISTE DEJA EN BASE",
        "DOUBLON",
    ),
    # K2
    (
        "Le statut de la certification avec le bcr émetteur 03VML243, l'id technique partenaire 202006-2510 et l'index 0 est KO",
        "CERTIFICATION_INCONNUE",
    ),
    # K3, K8
    ("Aucun titulaire ne correspond aux critères obligatoires", "TITULAIRE_INTROUVABLE_N1"),
    ("aucun titulaire ne correspond aux criteres obligatoires.", "TITULAIRE_INTROUVABLE_N1"),
    ("Aucun titulaire ne correspond à ces critères", "TITULAIRE_INTROUVABLE_N1"),
    # K4
    (
        "Aucun titulaire ne correspond aux critères obligatoires enrichis du jour et du mois de naissance",
        "TITULAIRE_INTROUVABLE_N2",
    ),
    # K5, both spellings
    ("Aucun titulaire ne correspond aux critères de reconciliation", "TITULAIRE_INTROUVABLE_N3"),
    ("Aucun titulaire ne correspond aux critères de réconciliation", "TITULAIRE_INTROUVABLE_N3"),
    # K6
    ("Plusieurs titulaires ont été identifiés", "TITULAIRES_MULTIPLES"),
    ("  Plusieurs   titulaires ont ete identifies ", "TITULAIRES_MULTIPLES"),
    # K7
    (
        "La date de fin de validité est inférieure à date de début de validité pour le passage certification avec le bcr émetteur 03VML243 et l'id technique partenaire 1559735",
        "DATES_INCOHERENTES",
    ),
]

FILE_MESSAGES = [
    ('La chaîne "--" n\'est pas autorisée dans les commentaires.', "XML_COMMENTAIRE", {}),
    ("La version est obligatoire dans la déclaration XML.", "XML_VERSION", {}),
    (
        'La version XML "2.0" n\'est pas prise en charge. Seule la version XML 1.0 est prise en charge.',
        "XML_VERSION",
        {"valeur": "2.0"},
    ),
    (
        "cvc-elt.1.a : Déclaration de l'élément 'cpf:flux' introuvable.",
        "XSD_VERSION",
        {"element": "cpf:flux"},
    ),
    (
        'Le type d\'élément "cpf:idClient" doit se terminer par la balise de fin correspondante "</cpf:idClient>".',
        "XML_BALISE",
        {"element": "cpf:idClient"},
    ),
    (
        'Le type d\'élément "cpf:flux" doit être suivi des spécifications d\'attribut, ">" ou "/>".',
        "XML_BALISE",
        {"element": "cpf:flux"},
    ),
    (
        "cvc-pattern-valid : La valeur '20-12-18T14:24:12+01:00' n'est pas un facet valide par rapport au modèle '(19|20)[0-9]{2}-(0[1-9]|1[0-2])' pour le type '#AnonType_horodatageflux'.",
        "XSD_FORMAT",
        {"valeur": "20-12-18T14:24:12+01:00"},
    ),
    (
        "cvc-type.3.1.3 : La valeur 'XXXX' de l'élément 'cpf:dateDebutValidite' n'est pas valide.",
        "XSD_FORMAT",
        {"valeur": "XXXX", "element": "cpf:dateDebutValidite"},
    ),
    (
        "cvc-datatype-valid.1.2.1 : '2020-13-45' n'est pas une valeur valide pour 'date'.",
        "XSD_FORMAT",
        {"valeur": "2020-13-45"},
    ),
    (
        "cvc-length-valid : La valeur '1234567', ayant pour longueur '7', n'est pas un facet valide par rapport à la longueur '8' pour le type '#AnonType_idClientemetteur'.",
        "XSD_LONGUEUR",
        {"valeur": "1234567", "trouvee": "7", "longueur": "8"},
    ),
    (
        "cvc-minLength-valid : La valeur '' avec la longueur = '0' n'est pas un facet valide par rapport à la longueur minimale '1' pour le type '#AnonType_nomNaissance'.",
        "XSD_LONGUEUR",
        {"trouvee": "0", "longueur": "1"},
    ),
    (
        "cvc-maxLength-valid : La valeur 'x' avec la longueur = '61' n'est pas un facet valide par rapport à la longueur maximale '60' pour le type '#AnonType_prenom1'.",
        "XSD_LONGUEUR",
        {"longueur": "60"},
    ),
    (
        "cvc-complex-type.2.4.b : Le contenu de l'élément 'cpf:certificateur' n'est pas complet. L'un des éléments '{\"urn:cdc:cpf:pc5:schema:1.0.0\":idClient, \"urn:cdc:cpf:pc5:schema:1.0.0\":idContrat}' est attendu.",
        "XSD_ABSENT",
        {"element": "cpf:certificateur"},
    ),
    (
        "cvc-complex-type.2.4.a : Contenu non valide trouvé à partir de l'élément 'coucou'. L'une des valeurs '{\"urn:cdc:cpf:pc5:schema:1.0.0\":idFlux}' est attendue.",
        "XSD_EN_TROP",
        {"element": "coucou"},
    ),
    (
        "cvc-complex-type.2.4.d : Contenu non valide trouvé à partir de l'élément 'cpf:codePostalNaissance'. Aucun élément enfant n'est attendu à cet endroit.",
        "XSD_OU_EXCLUSIF",
        {"element": "cpf:codePostalNaissance"},
    ),
    (
        "cvc-enumeration-valid : La valeur 'H' n'est pas un facet valide par rapport à l'énumération '[M, F]'. Il doit s'agir d'une valeur provenant de l'énumération.",
        "XSD_ENUMERATION",
        {"valeur": "H", "valeurs": "M, F"},
    ),
    (
        "cvc-minInclusive-valid : La valeur '1850' n'est pas un facet valide par rapport à minInclusive '1900' pour le type '#AnonType_anneeNaissance'.",
        "XSD_BORNES",
        {"valeur": "1850", "borne": "1900"},
    ),
    (
        "cvc-maxInclusive-valid : La valeur '13' n'est pas un facet valide par rapport à maxInclusive '12' pour le type '#AnonType_moisNaissance'.",
        "XSD_BORNES",
        {"valeur": "13", "borne": "12"},
    ),
    (
        "cvc-elt.3.1 : L'attribut 'http://www.w3.org/2001/XMLSchema-instance,nil' ne doit pas apparaître sur l'élément 'cpf:prenom1' car la propriété {nillable} de l'élément est fausse.",
        "XSD_NIL",
        {"element": "cpf:prenom1"},
    ),
    (
        "cvc-complex-type.2.3 : L'élément 'cpf:titulaire' ne peut pas contenir de caractères.",
        "XSD_AUTRE",
        {},
    ),
]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(use_default_user_file=False)


@pytest.mark.parametrize(("message", "code"), PASSAGE_MESSAGES)
def test_passage_messages(catalogue, message: str, code: str) -> None:
    assert catalogue.classify(message).code == code


def test_variable_parts_are_captured_with_their_case(catalogue) -> None:
    found = catalogue.classify(PASSAGE_MESSAGES[2][0])
    assert found.captures == {"bcr": "03VML243", "id": "202006-2510", "index": "0"}
    doublon = catalogue.classify(PASSAGE_MESSAGES[1][0])
    assert doublon.captures["id"] == "0000-0042"
    assert "0000-0042" in doublon.hint


def test_unknown_message_is_kept(catalogue) -> None:
    found = catalogue.classify("Erreur technique 500 : réessayez plus tard")
    assert found.code == "MESSAGE_INCONNU"
    assert catalogue.classify("", "passage").code == "MESSAGE_INCONNU"


@pytest.mark.parametrize(("message", "code", "captures"), FILE_MESSAGES)
def test_file_messages(catalogue, message: str, code: str, captures: dict) -> None:
    found = catalogue.classify(message, "fichier")
    assert found.code == code
    for name, value in captures.items():
        assert found.captures.get(name) == value


def test_enumeration_hint_reads_plainly(catalogue) -> None:
    found = catalogue.classify(FILE_MESSAGES[15][0], "fichier")
    assert found.hint == "La valeur « H » n'est pas permise : valeurs possibles M, F."


def test_every_entry_is_complete(catalogue) -> None:
    assert catalogue.version and catalogue.mis_a_jour
    codes = [e.code for e in catalogue.entries]
    assert len(codes) == len(set(codes))
    for entry in catalogue.entries:
        assert entry.titre and entry.explication and entry.actions, entry.code
        assert all(field in by_key() for field in entry.champs), entry.code
    doublon = catalogue.get("DOUBLON")
    assert doublon is not None and doublon.redeposer == "non"


def test_user_catalogue_overrides_and_adds(tmp_path: Path) -> None:
    own = tmp_path / "mon-catalogue.toml"
    own.write_text(
        """
[[famille]]
code = "DOUBLON"
titre = "Déjà là"

[[famille]]
code = "PANNE_PORTAIL"
portee = "passage"
titre = "Panne du portail"
explication = "Le portail était indisponible."
actions = ["Redéposer demain."]
champs = []
gravite = "information"
redeposer = "apres_correction"
motifs = ['erreur technique \\d+']
""",
        "utf-8",
    )
    catalogue = load_catalogue(own)
    assert catalogue.classify("Erreur technique 500").code == "PANNE_PORTAIL"
    doublon = catalogue.get("DOUBLON")
    assert doublon is not None and doublon.titre == "Déjà là"
    assert doublon.redeposer == "non"  # inherited from the shipped entry
    assert catalogue.classify(PASSAGE_MESSAGES[0][0]).code == "DOUBLON"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[famille]]\ncode = "X"\nportee = "ailleurs"', "entrée « X », champ « portee »"),
        (
            '[[famille]]\ncode = "X"\nportee = "passage"\ntitre = "t"\nexplication = "e"\ngravite = "a_corriger"\nredeposer = "non"\nchamps = ["nomDeJeuneFille"]',
            "champ « champs »",
        ),
        (
            '[[famille]]\ncode = "X"\nportee = "passage"\ntitre = "t"\nexplication = "e"\ngravite = "a_corriger"\nredeposer = "non"\nmotifs = ["(ouvert"]',
            "champ « motifs »",
        ),
        ("[[famille]]\ntitre = 'sans code'", "n'a pas de champ « code »"),
        ("ceci n'est pas du toml = = =", "TOML"),
    ],
)
def test_bad_user_catalogue_is_explained(tmp_path: Path, body: str, expected: str) -> None:
    own = tmp_path / "c.toml"
    own.write_text(body, "utf-8")
    with pytest.raises(InputError, match=expected) as caught:
        load_catalogue(own)
    assert caught.value.path == own


def test_default_user_catalogue_from_environment(tmp_path: Path, monkeypatch) -> None:
    own = tmp_path / "c.toml"
    own.write_text('[[famille]]\ncode = "DOUBLON"\ntitre = "Perso"\n', "utf-8")
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(own))
    assert load_catalogue().get("DOUBLON").titre == "Perso"


# --- every family proven by its examples ---------------------------------------------------

SHIPPED = load_shipped()
EXAMPLE_CHECKS = check_examples(SHIPPED)


@pytest.mark.parametrize(
    "check",
    EXAMPLE_CHECKS,
    ids=[f"{c.family.code}-{c.example.message[:30]}" for c in EXAMPLE_CHECKS],
)
def test_each_example_is_classified_by_its_own_family_alone(check) -> None:
    found = SHIPPED.classify(check.example.message, check.family.portee)
    assert found.code == check.family.code
    assert found.captures == dict(check.example.captures)
    assert check.also == ()  # no other family recognises it, whatever the order
    assert check.problems == []


def test_every_family_has_an_example_with_its_source() -> None:
    assert len(EXAMPLE_CHECKS) >= len(SHIPPED.entries)
    for entry in SHIPPED.entries:
        assert entry.exemples, entry.code
        assert all(example.source for example in entry.exemples), entry.code


def test_a_wrong_example_is_caught(tmp_path: Path) -> None:
    own = tmp_path / "c.toml"
    own.write_text(
        """
[[famille]]
code = "TITULAIRE_INTROUVABLE_N3"
motifs = ["aucun titulaire ne correspond"]

[[famille.exemples]]
message = "Aucun titulaire ne correspond aux critères de reconciliation"

[[famille]]
code = "DOUBLON"

[[famille.exemples]]
message = "Le passage certification avec le bcr émetteur 03VML243 et l'id technique partenaire 42 existe déjà en base"
captures = { bcr = "03VML243", id = "43" }
""",
        "utf-8",
    )
    catalogue = load_catalogue(own)
    problems = {c.family.code: c.problems for c in check_examples(catalogue)}
    # The broadened family now also takes the messages of N1 and N2: their examples say so.
    assert problems["TITULAIRE_INTROUVABLE_N1"][0].startswith(
        "reconnu par la famille TITULAIRE_INTROUVABLE_N3"
    )
    assert problems["DOUBLON"] == ["id : attendu « 43 », obtenu « 42 »"]


def test_journal_is_newest_first_and_matches_the_version() -> None:
    journal = SHIPPED.journal
    assert journal and journal[0].version == SHIPPED.version
    assert journal[0].date == SHIPPED.mis_a_jour
    assert [c.date for c in journal] == sorted((c.date for c in journal), reverse=True)
    assert all(change.changements for change in journal)


def test_report_footer_names_the_catalogue_version_and_its_news(tmp_path: Path) -> None:
    own = tmp_path / "perso.toml"
    own.write_text('[[famille]]\ncode = "DOUBLON"\ntitre = "Déjà là"\n', "utf-8")
    page = render_report(analyse(FIXTURES / "recu.xml", catalogue=load_catalogue(own)))
    footer = lxml.html.fromstring(page).find(".//footer").text_content()
    assert f"version {SHIPPED.version}" in footer and "perso.toml" in footer
    assert SHIPPED.journal[0].changements[0] in footer


# --- linear time on any message, any pattern ----------------------------------------------


def _slowest(catalogue, message: str, scope: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        catalogue.classify(message, scope)
        best = min(best, time.perf_counter() - start)
    return best


# Messages built to make a backtracking engine try every start and every split: Python's re
# took about a minute on 48 KB of the first two, and grew with the cube of the length.
HOSTILE_PIECES = [
    ("passage", "date de fin "),
    ("passage", "le passage certification avec le bcr emetteur x et l'id technique partenaire "),
    ("passage", "le statut de la certification "),
    ("passage", "aaaaaaaaaaaaa!"),
    ("fichier", "la valeur '' de l'element '"),
    ("fichier", "cvc-datatype-valid : '"),
]


@pytest.mark.parametrize(("scope", "piece"), HOSTILE_PIECES)
def test_classifying_grows_linearly_with_the_message(
    tmp_path: Path, scope: str, piece: str
) -> None:
    own = tmp_path / "c.toml"
    # A user pattern that is exponential for a backtracking engine.
    own.write_text(
        '[[famille]]\ncode = "PERSO"\nportee = "passage"\ntitre = "t"\nexplication = "e"\n'
        'gravite = "a_corriger"\nredeposer = "non"\nmotifs = ["^(a+)+$", "(.*)*z(.*)*y"]\n',
        "utf-8",
    )
    catalogue = load_catalogue(own)
    small = (piece * (10_000 // len(piece) + 1))[:10_000]
    large = (piece * (1_000_000 // len(piece) + 1))[:1_000_000]
    assert catalogue.classify(large, scope).code == catalogue.classify(small, scope).code
    ratio = _slowest(catalogue, large, scope) / _slowest(catalogue, small, scope)
    # 100 times the text: about 100 times the work; a quadratic engine would do 10,000 times.
    assert ratio < 2_000, ratio


@pytest.mark.parametrize(
    ("motif", "reason"),
    [
        ("(a)\\\\1", "références arrière"),
        ("(?=x)a", "assertions"),
        ("(?<!x)a", "assertions"),
        ("a{5000}", "répétition"),
        ("(ouvert", "parenthèse"),
        ("x" * 3000, "3000 caractères"),
        # Linear in the text, but each character would cost thousands of steps.
        ("[a-z]{999}x[a-z]{999}", "trop complexe"),
    ],
)
def test_patterns_that_need_backtracking_are_refused(
    tmp_path: Path, motif: str, reason: str
) -> None:
    own = tmp_path / "c.toml"
    own.write_text(
        '[[famille]]\ncode = "PERSO"\nportee = "passage"\ntitre = "t"\nexplication = "e"\n'
        f'gravite = "a_corriger"\nredeposer = "non"\nmotifs = ["{motif}"]\n',
        "utf-8",
    )
    with pytest.raises(InputError, match=reason) as caught:
        load_catalogue(own)
    assert "entrée « PERSO », champ « motifs »" in caught.value.message


# --- hostile user catalogues: a sentence naming the entry, bounded time and memory -----------


@pytest.mark.parametrize(
    ("hint", "shown"),
    [
        ("{id:>1500000000}", "{id:>1500000000}"),
        ("{id.zzz}", "{id.zzz}"),
        ("{id[0]}", "{id[0]}"),
        ("{0}", "{0}"),
        ("{id!r}", "{id!r}"),
        ("ouverte {id", "accolades"),
    ],
)
def test_hint_templates_are_plain_names_only(tmp_path: Path, hint: str, shown: str) -> None:
    own = tmp_path / "c.toml"
    own.write_text(f'[[famille]]\ncode = "DOUBLON"\nindice = "{hint}"\n', "utf-8")
    with pytest.raises(InputError) as caught:
        load_catalogue(own)
    assert "entrée « DOUBLON », champ « indice »" in caught.value.message
    assert shown in caught.value.message


def test_hint_braces_can_be_written_doubled(tmp_path: Path) -> None:
    own = tmp_path / "c.toml"
    own.write_text('[[famille]]\ncode = "DOUBLON"\nindice = "{{{id}}} déjà vu"\n', "utf-8")
    found = load_catalogue(own).classify(PASSAGE_MESSAGES[0][0])
    assert found.hint == "{1559735} déjà vu"


def test_deeply_nested_catalogue_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "c.toml"
    own.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "utf-8")
    with pytest.raises(InputError, match="imbriquées trop profondément"):
        load_catalogue(own)


def test_huge_catalogue_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    own = tmp_path / "c.toml"
    with open(own, "wb") as handle:
        handle.write(b"# " + b"x" * (50 << 20) + b"\n")
    with pytest.raises(InputError, match="trop gros"):
        load_catalogue(own)


def test_many_patterns_are_refused_by_their_total_size(tmp_path: Path) -> None:
    own = tmp_path / "c.toml"
    family = (
        '[[famille]]\ncode = "F{0}"\nportee = "passage"\ntitre = "t"\nexplication = "e"\n'
        'gravite = "a_corriger"\nredeposer = "non"\nmotifs = ["[a-z]{{200}}x{0}"]\n'
    )
    own.write_text("".join(family.format(i) for i in range(200)), "utf-8")
    with pytest.raises(InputError, match="trop complexe : ses motifs font ensemble"):
        load_catalogue(own)


def test_duplicate_family_in_one_file_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "c.toml"
    own.write_text('[[famille]]\ncode = "DOUBLON"\n[[famille]]\ncode = "DOUBLON"\n', "utf-8")
    with pytest.raises(InputError, match="définie deux fois"):
        load_catalogue(own)


# --- a living catalogue: harvest, list, propose, save, classified at the next analysis -------

NEW_WORDING = "Le NIR {nir} ne correspond pas au titulaire de l'id technique partenaire {id}"
NIRS = ["185057800608436", "2 85 05 2A 006 084"]


def _receipt(tmp_path: Path, name: str, messages: dict[str, str]) -> Path:
    passages = "".join(
        f"<passage><idTechnique>{i}</idTechnique><messageErreur>{m}</messageErreur></passage>"
        for i, m in messages.items()
    )
    path = tmp_path / name
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><rapport><nomFichier>{name}</nomFichier>'
        f"<PassagesKO>{passages}</PassagesKO><PassagesOK><idTechnique>OK1</idTechnique>"
        "</PassagesOK></rapport>",
        "utf-8",
    )
    return path


def _cli(*args: str):
    from typer.testing import CliRunner

    from accuse.cli.app import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture
def user_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "config" / "catalogue.toml"
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(where))
    monkeypatch.setenv("COLUMNS", "250")
    return where


def test_unknown_messages_are_harvested_listed_proposed_and_then_classified(
    tmp_path: Path, user_catalogue: Path
) -> None:
    first = {
        "P1": NEW_WORDING.format(nir=NIRS[0], id="P1"),
        "P2": NEW_WORDING.format(nir=NIRS[1], id="P2"),
        "P3": "La suppression du passage P3 est impossible pour le bcr émetteur 03VML243",
        "P4": "Plusieurs titulaires ont été identifiés",
    }
    analysed = _cli("analyse", str(_receipt(tmp_path, "r1.xml", first)), "--sans-sortie")
    assert analysed.exit_code == 1, analysed.output
    said = " ".join(analysed.stdout.split())
    assert "3 passages refusés par un message que le catalogue ne connaît pas encore" in said
    assert "accuse catalogue --inconnus aide à l'y ajouter" in said
    second = {"P5": NEW_WORDING.format(nir=NIRS[0], id="P5")}
    _cli("analyse", str(_receipt(tmp_path, "r2.xml", second)), "--sans-sortie")

    # Listed by shape, most passages first: the NIR wording (3 passages, 2 receipts) is one line.
    listing = _cli("catalogue", "--inconnus")
    assert listing.exit_code == 0, listing.output
    out = listing.stdout
    assert "2 formulations, 4 passages refusés" in out
    assert "1. 3 passages, 2 accusés" in out and "(dernier : r2.xml)" in out
    assert "2. 1 passage, 1 accusé" in out and "La suppression du passage P3" in out
    assert "Plusieurs titulaires" not in out  # a known family is not harvested
    for nir in NIRS:
        assert nir not in out and nir.replace(" ", "") not in out
    assert "Le NIR 2 85 05 •• ••• ••• ne correspond pas" in out
    command = next(line for line in out.splitlines() if "--proposer" in line)
    proposed_for = command.split('--proposer "', 1)[1].rstrip('"')

    # The history keeps the text with the NIR masked, in every file of the SQLite store.
    for stored in tmp_path.glob("historique.sqlite*"):
        data = stored.read_bytes()
        assert b"185057800608436" not in data and b"2 85 05 2A 006 084" not in data

    # Proposed: a TOML family naming the user's catalogue, saved there as it is.
    proposal = _cli("catalogue", "--proposer", proposed_for)
    assert proposal.exit_code == 0, proposal.output
    toml = proposal.stdout
    assert str(user_catalogue) in toml and "(?P<id>" in toml and "À COMPLÉTER" in toml
    user_catalogue.parent.mkdir()
    user_catalogue.write_text(toml.replace("À COMPLÉTER : ", ""), "utf-8")

    verified = _cli("catalogue", "--verifier", str(user_catalogue))
    assert verified.exit_code == 0, verified.output
    assert "nouvelle famille" in verified.stdout and "Tout est en ordre" in verified.stdout

    # The next analysis puts the message in the new family, with the id it names.
    again = _cli(
        "analyse",
        str(_receipt(tmp_path, "r3.xml", {"P9": NEW_WORDING.format(nir=NIRS[1], id="P9")})),
        "--sans-sortie",
        "--format",
        "json",
    )
    import json

    document = json.loads(again.stdout)
    assert [f["code"] for f in document["familles"]] == ["PERSO_CORRESPOND_TITULAIRE_TECHNIQUE"]
    assert document["ko"][0]["indice"] == "id : P9"
    relisted = _cli("catalogue", "--inconnus").stdout
    assert "1 formulation, 1 passage refusé" in relisted
    assert "Désormais reconnus par le catalogue" in relisted
    assert "famille PERSO_CORRESPOND_TITULAIRE_TECHNIQUE (3 passages)" in relisted


def test_proposal_for_a_known_message_says_so(user_catalogue: Path) -> None:
    result = _cli("catalogue", "--proposer", PASSAGE_MESSAGES[0][0])
    assert result.exit_code == 0
    assert "déjà reconnu par la famille DOUBLON" in result.stderr
    assert "(?P<bcr>" in result.stdout and "(?P<id>" in result.stdout


def test_proposal_never_writes_a_nir_in_clear(user_catalogue: Path) -> None:
    result = _cli("catalogue", "--proposer", f"NIR {NIRS[0]} refusé")
    assert NIRS[0] not in result.output and "1 85 05 •• ••• ••• ••" in result.stdout


def test_empty_history_has_no_unknown_message(user_catalogue: Path) -> None:
    result = _cli("catalogue", "--inconnus")
    assert result.exit_code == 0 and "Aucun message non répertorié" in result.stdout


GOOD_FAMILY = """
[[famille]]
code = "PANNE_PORTAIL"
portee = "passage"
titre = "Panne du portail"
explication = "Le portail était indisponible."
actions = ["Redéposer demain."]
gravite = "information"
redeposer = "apres_correction"
motifs = ['erreur technique (?P<valeur>\\d+)']
indice = "Code {valeur}."

[[famille.exemples]]
message = "Erreur technique 500 : réessayez plus tard"
captures = { valeur = "500" }
"""


@pytest.mark.parametrize(
    ("body", "code", "expected"),
    [
        (
            GOOD_FAMILY,
            0,
            ["PANNE_PORTAIL — Panne du portail : nouvelle famille", "OK", "Tout est en ordre"],
        ),
        (
            '[[famille]]\ncode = "DOUBLON"\ntitre = "Déjà là"\n',
            0,
            ["remplace la famille fournie « Passage déjà enregistré (doublon) »", "OK"],
        ),
        (
            GOOD_FAMILY.replace('valeur = "500"', 'valeur = "501"'),
            1,
            ["ERREUR", "valeur : attendu « 501 », obtenu « 500 »", "À corriger"],
        ),
        (
            GOOD_FAMILY.replace("erreur technique", "aucun titulaire|erreur technique"),
            1,
            ["attendu TITULAIRE_INTROUVABLE_N1, rangé dans PANNE_PORTAIL"],
        ),
        (
            GOOD_FAMILY.replace('titre = "Panne du portail"', 'titre = "À COMPLÉTER : titre"'),
            1,
            ["À compléter encore : titre."],
        ),
        (GOOD_FAMILY.split("[[famille.exemples]]")[0], 0, ["Aucun exemple"]),
    ],
)
def test_verifier_reports_on_a_user_catalogue(
    tmp_path: Path, user_catalogue: Path, body: str, code: int, expected: list[str]
) -> None:
    own = tmp_path / "perso.toml"
    own.write_text(body, "utf-8")
    result = _cli("catalogue", "--verifier", str(own))
    assert result.exit_code == code, result.output
    for text in expected:
        assert text in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            GOOD_FAMILY.replace("(?P<valeur>\\d+)", "(\\d+)\\1"),
            "entrée « PANNE_PORTAIL », champ « motifs »",
        ),
        (
            GOOD_FAMILY.replace("Code {valeur}.", "{valeur:>1500000000}"),
            "entrée « PANNE_PORTAIL », champ « indice »",
        ),
        (
            GOOD_FAMILY.replace('captures = { valeur = "500" }', "captures = 3"),
            "champ « exemples »",
        ),
        ("a = " + "[" * 100_000 + "]" * 100_000, "imbriquées trop profondément"),
    ],
)
def test_verifier_refuses_an_unusable_catalogue(tmp_path: Path, body: str, expected: str) -> None:
    own = tmp_path / "perso.toml"
    own.write_text(body, "utf-8")
    result = _cli("catalogue", "--verifier", str(own))
    assert result.exit_code == 2
    assert expected in result.stderr and "perso.toml" in result.stderr


def test_catalogue_listing_shows_no_pattern_to_the_user(user_catalogue: Path) -> None:
    for args in (("catalogue",), *((("catalogue", e.code)) for e in SHIPPED.entries)):
        out = _cli(*args).stdout
        assert "(?P<" not in out and "\\S" not in out and "Motif" not in out, args
    one = _cli("catalogue", "DOUBLON").stdout
    assert "existe déjà en base" in one  # its example, in the portal's words
    listing = _cli("catalogue").stdout
    assert (
        f"Version {SHIPPED.version}" in listing
        and SHIPPED.journal[0].changements[0][:40] in listing
    )


@pytest.mark.parametrize(
    "message",
    [
        "mot " * 900 + "fin 42",  # past the pattern limits: its beginning is used
        "\x1b[31mrouge\x7f et 12/05/2024",  # control characters: still valid TOML
        "Valeur '' et \"citée\" pour l'élément 'cpf:x' à l'index 3",
    ],
)
def test_any_proposal_loads_and_recognises_its_message(
    tmp_path: Path, user_catalogue: Path, message: str
) -> None:
    result = _cli("catalogue", "--proposer", message)
    assert result.exit_code == 0, result.output
    own = tmp_path / "p.toml"
    own.write_text(result.stdout, "utf-8")
    catalogue = load_catalogue(own)
    assert catalogue.classify(message).code.startswith("PERSO_")
    assert check_examples(catalogue, catalogue.entries[:1])[0].problems == []


def test_proposal_of_nothing_is_refused(user_catalogue: Path) -> None:
    result = _cli("catalogue", "--proposer", "  .  ")
    assert result.exit_code == 2 and "le message à proposer est vide" in result.stderr


HOSTILE_CATALOGUES = [
    (
        '[[famille]]\ncode = "DOUBLON"\nindice = "{id:>1500000000}"\n',
        "entrée « DOUBLON », champ « indice »",
    ),
    (
        '[[famille]]\ncode = "DOUBLON"\nindice = "{id.zzz}"\n',
        "entrée « DOUBLON », champ « indice »",
    ),
    (
        '[[famille]]\ncode = "DOUBLON"\nmotifs = ["(a+)+\\\\1"]\n',
        "entrée « DOUBLON », champ « motifs »",
    ),
    ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "imbriquées trop profondément"),
    ("# " + "x" * (3 << 20) + "\n", "trop gros"),
]


@pytest.mark.parametrize(("body", "expected"), HOSTILE_CATALOGUES)
def test_hostile_user_catalogue_stops_analyse_with_exit_2_in_bounded_memory(
    tmp_path: Path, body: str, expected: str
) -> None:
    import resource
    import subprocess
    import sys

    own = tmp_path / "hostile.toml"
    own.write_text(body, "utf-8")

    def limit() -> None:  # 1 GiB of address space: {id:>1500000000} alone wanted 15 GB
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "accuse",
            "analyse",
            str(FIXTURES / "recu.xml"),
            "--catalogue",
            str(own),
            "--sans-sortie",
            "--sans-historique",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2, result.stderr
    assert "hostile.toml" in result.stderr and expected in result.stderr
    assert own.read_text("utf-8") == body  # untouched


def test_proposal_for_a_whole_file_error_keeps_its_validator_code(
    tmp_path: Path, user_catalogue: Path
) -> None:
    message = "cvc-complex-type.2.3 : L'élément 'cpf:titulaire' ne peut pas contenir de caractères."
    result = _cli("catalogue", "--proposer", message, "--fichier")
    assert result.exit_code == 0, result.output
    assert 'portee = "fichier"' in result.stdout
    assert "'''cvc-complex-type\\.2\\.3 : l'element '(?P<element>" in result.stdout
    own = tmp_path / "p.toml"
    own.write_text(result.stdout, "utf-8")
    found = load_catalogue(own).classify(message, "fichier")
    assert found.code.startswith("PERSO_") and found.captures == {"element": "cpf:titulaire"}
