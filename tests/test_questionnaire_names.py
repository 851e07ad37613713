"""People's names in questionnaire uploads: found before import, replaced unless kept, never the questionnaire's name.

A project lead's workbook has a Role column where people typed "Head of maths - Ahmed Khan" and the file is
called "Survey results - Sarah Jones.xlsx". The preview must say where the names are (masked), the default import
must store none of them, ``--keep-names`` must keep them, and ordinary school words must raise no alarm.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import streamlit as st

from analytics.imports.survey import SurveyOptions, import_survey, preview_survey
from analytics.privacy.person_names import (
    find_person_names,
    mask_name,
    mask_person_names,
    redact_person_names,
)
from analytics.store.db import Store
from tests.test_import_survey import AGREEMENT, workbook_bytes
from tests.test_pages import open_app
from tests.test_questionnaire_layouts import run_cli

pytestmark = pytest.mark.usefixtures("fresh_caches")

FILE_NAME = "Survey results - Sarah Jones.xlsx"
ROLES = ["Head of maths - Ahmed Khan", "Mrs O'Brien (Y6)", "TA", "SENCo", "Year 6 teacher"]
# Every piece of every name in the upload: none may reach the store unless the user keeps them.
NAME_PARTS = ("Ahmed", "Khan", "O'Brien", "Sarah", "Jones", "Patel", "Hughes")
ITEMS = ["I plan lessons that stretch everyone", "I use assessment to adapt teaching", "I feel supported by leaders"]
PAGE = "app_pages/questionnaires.py"
FILES_KEY = "questionnaire_files"


def leads_workbook(roles: list[str] = ROLES, items: list[str] = ITEMS, people: int = 10) -> bytes:
    """Before and After sheets as a project lead keeps them: a code, a role, a SEND column and agreement answers."""
    sheets = {}
    for wave, shift in (("Before", 0), ("After", 1)):
        rows: list[list[object]] = [["Code", "Role", "SEND", *items]]
        for person in range(people):
            send = "SEN support - Miss Patel's group" if person == 3 else ("No" if person % 2 else "Yes")
            answers = [AGREEMENT[min(4, (person + k) % 4 + shift)] for k in range(len(items))]
            rows.append([f"T{person + 1:02d}", roles[person % len(roles)], send, *answers])
        sheets[wave] = rows
    return workbook_bytes(sheets)


def stored_texts(path: Path) -> str:
    """Every text the questionnaire tables and the import log hold, as one string to search."""
    queries = [
        "SELECT name, description FROM survey_instruments",
        "SELECT item_code, item_text, construct FROM survey_items",
        "SELECT name FROM surveys",
        "SELECT label FROM survey_waves",
        "SELECT role FROM survey_responses",
        "SELECT characteristic, value FROM survey_respondent_groups",
        "SELECT file_name FROM imports_log",
    ]
    with Store(path, read_only=True) as store:
        return "\n".join(store.read(q).astype(str).to_csv(index=False) for q in queries)


def name_warnings(preview) -> list:
    return [w for w in preview.warnings if "person's name" in w.message]


# -- the preview -----------------------------------------------------------------------------------


def test_the_preview_warns_where_each_name_is_and_masks_it(empty_store_path: Path) -> None:
    with Store(empty_store_path) as store:
        preview = preview_survey([(FILE_NAME, leads_workbook())], store=store)
    assert preview.ok, [str(p) for p in preview.problems]
    found = {(n.what, n.shown): n for n in preview.names_found}
    head = found[("role", "Head of maths - A**** K***")]
    # The first Role cell holding it: Before sheet, row 2 (the first person), column B.
    assert (head.row, head.column) == (2, "B") and head.sheet.endswith("sheet Before")
    assert head.cells == 4 and head.stored_as == "Head of maths - [name]"
    assert found[("role", "Mrs O'B**** (Y6)")].stored_as == "[name] (Y6)"
    assert found[("pupil group", "SEN support - Miss P****'s group")].row == 5
    assert ("file name", "Survey results - S**** J****.xlsx") in found
    # Roles without a name raise nothing.
    assert not any(n.shown in ("TA", "SENCo", "Year 6 teacher") for n in preview.names_found)
    warnings = name_warnings(preview)
    assert len(warnings) == len(preview.names_found)
    role_warning = next(w for w in warnings if "Head of maths" in w.message)
    assert (role_warning.row, role_warning.column) == (2, "B")
    assert "It will be stored as 'Head of maths - [name]'" in role_warning.message
    assert "Keep as typed" in role_warning.message and "--keep-names" in role_warning.message
    # The preview shows every name masked: not one piece of one appears in what it says (the JSON's
    # ``file_names`` are the files as given; ``stored_file_names`` as they will be logged).
    said = "\n".join(preview.lines()) + json.dumps({**preview.to_dict(), "file_names": None})
    assert not [part for part in NAME_PARTS if part in said]
    assert preview.to_dict()["names_replaced"] is True


def test_a_name_in_the_file_name_is_never_the_questionnaire_s_name(empty_store_path: Path) -> None:
    with Store(empty_store_path) as store:
        preview = preview_survey([(FILE_NAME, leads_workbook())], store=store)
        kept = preview_survey([(FILE_NAME, leads_workbook())], store=store, options=SurveyOptions(keep_names=True))
    for one in (preview, kept):
        assert "Sarah" not in one.name and "Jones" not in one.name
        assert one.name.startswith("Questionnaire uploaded ")
        assert "holds a person's name" in one.lines()[1]
    # A sheet with a real title gives the questionnaire its name instead.
    titled = workbook_bytes({"Sheet1": [["Coaching programme evaluation"], [], *leads_sheet_rows()]})
    named = preview_survey([("Feedback from Ahmed Khan.xlsx", titled)])
    assert named.name == "Coaching programme evaluation"
    # A file name without a person's name is used as before.
    plain = preview_survey([("Coaching programme.xlsx", leads_workbook())])
    assert plain.name == "Coaching programme" and plain.name_note is None


def leads_sheet_rows() -> list[list[object]]:
    rows: list[list[object]] = [["Code", "Wave", "Role", "Q1"]]
    for person in range(6):
        for wave, shift in (("Before", 0), ("After", 1)):
            rows.append([f"P{person}", wave, "Teacher", AGREEMENT[min(4, person % 4 + shift)]])
    return rows


def test_names_in_headings_sheet_names_and_items_are_replaced_consistently(empty_store_path: Path) -> None:
    items = ["Mrs Khan's lessons", "I plan well"]
    sheets = {}
    for wave, shift in (("Before - Mr Patel", 0), ("After - Mr Patel", 1)):
        rows: list[list[object]] = [["Code", *items]]
        rows += [[f"T{p}", *[AGREEMENT[min(4, (p + k) % 4 + shift)] for k in range(2)]] for p in range(8)]
        sheets[wave] = rows
    data = workbook_bytes(sheets)
    with Store(empty_store_path) as store:
        preview = preview_survey([("coaching.xlsx", data)], store=store)
        assert preview.ok, [str(p) for p in preview.problems]
        assert preview.waves == ["Before - [name]", "After - [name]"]
        code = preview.items.item_code.iloc[0]
        assert code == "[name]'s lessons"
        question = next(n for n in preview.names_found if n.what == "question")
        assert (question.row, question.column) == (1, "B")
        # A change made in the preview to the item (by the code it shows) still finds it.
        options = SurveyOptions(item_changes={code: {"reverse_scored": True}})
        changed = preview_survey([("coaching.xlsx", data)], store=store, options=options)
        assert changed.ok, [str(p) for p in changed.problems]
        assert bool(changed.items.reverse_scored.iloc[0])
        import_survey(store, [("coaching.xlsx", data)], options=options)
    texts = stored_texts(empty_store_path)
    assert "Khan" not in texts and "Patel" not in texts
    assert "[name]'s lessons" in texts and "Before - [name]" in texts


def test_two_texts_that_differ_only_by_a_name_stay_two_items() -> None:
    items = ["Mrs Khan's lessons", "Mr Patel's lessons"]
    rows: list[list[object]] = [["Code", "Wave", *items]]
    rows += [[f"T{p}", w, AGREEMENT[p % 5], AGREEMENT[(p + 2) % 5]] for p in range(6) for w in ("Before", "After")]
    preview = preview_survey([("coaching.xlsx", workbook_bytes({"Answers": rows}))])
    assert preview.ok, [str(p) for p in preview.problems]
    assert sorted(preview.items.item_text) == ["[name]'s lessons", "[name]'s lessons (2)"]
    assert set(preview.answers["item"]) == set(preview.items.item_code)


# -- what is stored --------------------------------------------------------------------------------


def test_the_default_import_stores_no_name(empty_store_path: Path) -> None:
    with Store(empty_store_path) as store:
        summary = import_survey(store, [(FILE_NAME, leads_workbook())])
        roles = set(store.read("SELECT DISTINCT role FROM survey_responses").role)
        answers = store.scalar("SELECT count(*) FROM survey_responses")
    texts = stored_texts(empty_store_path)
    assert not [part for part in NAME_PARTS if part in texts], texts
    assert roles == {"Head of maths - [name]", "[name] (Y6)", "TA", "SENCo", "Year 6 teacher"}
    # Nothing but the names changed: every answer is there.
    assert answers == 2 * 10 * len(ITEMS) == summary.preview.stored_rows
    assert "Survey results - [name].xlsx" in texts


def test_keep_names_on_the_command_line_keeps_them_and_the_default_does_not(tmp_path: Path) -> None:
    upload = tmp_path / FILE_NAME
    upload.write_bytes(leads_workbook())
    kept_store, default_store = tmp_path / "kept.duckdb", tmp_path / "default.duckdb"
    for path in (kept_store, default_store):
        Store(path).close()
    dry = run_cli("import-survey", str(upload), "--db", str(default_store), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    payload = json.loads(dry.stdout)
    assert payload["names_replaced"] is True and len(payload["names_found"]) >= 4
    assert not [part for part in NAME_PARTS if part in json.dumps({**payload, "file_names": None})]
    done = run_cli("import-survey", str(upload), "--db", str(default_store))
    assert done.returncode == 0, done.stderr
    assert "replaced with [name] before storing" in done.stdout
    assert not [part for part in NAME_PARTS if part in stored_texts(default_store)]
    kept = run_cli("import-survey", str(upload), "--db", str(kept_store), "--keep-names", "--json")
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["names_replaced"] is False
    with Store(kept_store, read_only=True) as store:
        roles = set(store.read("SELECT DISTINCT role FROM survey_responses").role)
        name = store.scalar("SELECT name FROM surveys")
        logged = store.scalar("SELECT file_name FROM imports_log")
    assert {"Head of maths - Ahmed Khan", "Mrs O'Brien (Y6)"} <= roles
    assert logged == FILE_NAME
    # Kept or not, the file's name is not the questionnaire's name.
    assert "Sarah" not in name and "Jones" not in name


# -- no false alarms, and how many names are found ---------------------------------------------------

NOT_NAMES = [
    # roles
    "Head of Maths", "Head of maths", "Deputy Headteacher", "Assistant Head - Curriculum", "Teaching Assistant",
    "TA", "HLTA", "SENCo", "SENDCo", "Year 6 teacher", "Y6 class teacher", "Key Stage 2 lead", "KS1 Phase Leader",
    "EYFS Lead", "Reception teacher", "Maths lead", "English subject leader", "Science coordinator", "Reading lead",
    "Designated Safeguarding Lead", "Pastoral Manager", "Learning Mentor", "Cover Supervisor", "Midday Supervisor",
    "School Business Manager", "ECT mentor", "Trainee teacher", "Chair of Governors", "Parent governor",
    "Executive Headteacher", "Trust maths lead", "Dean of Sixth Form", "Head of Year 9", "Music teacher",
    "PE specialist", "Nursery nurse", "Prefer not to say",
    # groups and classes
    "Year 6", "Year 10 set 3", "Pupil premium", "Non-PP", "SEN support", "EHCP", "Upper KS2", "Oak class",
    "Willow class", "Rowan", "Robin Class", "Phoenix group", "Amber", "Red/Amber/Green",
    # schools
    "St Mary's CE Primary", "St John Fisher Catholic High School", "Church of England",
    "Holy Trinity C of E Primary", "Our Lady of Lourdes RC Primary", "King Edward VI Grammar School",
    "Queen Elizabeth's School", "Grace Academy", "Victoria Park Primary", "John Ruskin College",
    "Sir John Cass's Foundation Primary",
    # items, terms and programmes
    "Reading for pleasure", "I enjoy reading for pleasure", "Will you recommend the programme to a colleague?",
    "Mark scheme", "The mark scheme is clear", "May half term", "Autumn term", "Summer 2", "Spring term 2025",
    "Before (September)", "After (July)", "I feel confident teaching phonics", "Behaviour in lessons is good",
    "Grace and courtesy", "Hope and aspiration", "Faith in the future", "Joy of learning", "Times Tables Rock Stars",
    "White Rose Maths", "Little Wandle phonics", "Read Write Inc", "Talk for Writing", "Accelerated Reader",
    "Jigsaw PSHE", "Amber rating", "MS Teams training", "Christmas concert", "April 2025", "June survey",
    "A Level results", "Section B. Confidence", "Q3. Planning", "Frank discussions with leaders", "Max score",
    "Grant funded places", "Harsh feedback", "Chester Zoo trip", "Devon residential", "Norman conquest",
    "Poppy appeal", "Mean score", "Total", "Tel: 01234 567890", "office@stmarys.sch.uk",
]  # fmt: skip

# (text, the name in it): a name counts as found when none of its words is left after redaction.
NAMES = [
    ("Ahmed Khan", "Ahmed Khan"), ("Head of maths - Ahmed Khan", "Ahmed Khan"), ("Mrs O'Brien (Y6)", "O'Brien"),
    ("Mrs Khan", "Khan"), ("Mr. O'Neill", "O'Neill"), ("Dr Smith", "Smith"), ("Miss J Patel", "Patel"),
    ("J. Smith", "Smith"), ("J Smith", "Smith"), ("Sarah Jones", "Sarah Jones"),
    ("Survey results - Sarah Jones", "Sarah Jones"), ("sarah.jones@school.org.uk", "sarah jones"),
    ("Khan, Ahmed", "Khan Ahmed"), ("KHAN, Ahmed", "KHAN Ahmed"), ("ahmed khan", "ahmed khan"), ("mrs khan", "khan"),
    ("MR JONES", "JONES"), ("Ms McDonald", "McDonald"), ("Mr de Souza", "Souza"),
    ("Siobhan O'Connor", "Siobhan O'Connor"), ("Aoife Byrne", "Aoife Byrne"), ("Rhys Evans", "Rhys Evans"),
    ("Catriona MacLeod", "Catriona MacLeod"), ("Hamish Fraser", "Hamish Fraser"), ("Priya Sharma", "Priya Sharma"),
    ("Gurpreet Kaur", "Gurpreet Kaur"), ("Mohammed Ali", "Mohammed Ali"), ("Fatima Hussain", "Fatima Hussain"),
    ("Wojciech Kowalski", "Wojciech Kowalski"), ("Agnieszka Nowak", "Agnieszka Nowak"),
    ("Chinedu Okafor", "Chinedu Okafor"), ("Oluwaseun Adeyemi", "Oluwaseun Adeyemi"), ("Hodan Abdi", "Hodan Abdi"),
    ("Abdirahman Farah", "Abdirahman Farah"), ("Wei Zhang", "Wei Zhang"), ("Kwame Mensah", "Kwame Mensah"),
    ("Zeynep Yilmaz", "Zeynep Yilmaz"), ("Andrei Popescu", "Andrei Popescu"), ("Mrs Okonkwo", "Okonkwo"),
    ("Mr Wiśniewski", "Wiśniewski"), ("TA (Sarah)", "Sarah"), ("Y6 - Mr Patel", "Patel"),
    ("Class teacher: Miss Hughes", "Hughes"), ("Ahmed Khan's class", "Ahmed Khan"), ("Oliver Smith", "Oliver Smith"),
    ("Jack Taylor", "Jack Taylor"), ("Will Smith", "Will Smith"), ("Mark Taylor", "Mark Taylor"),
    ("j.smith@academy.org.uk", "smith"), ("Smith, J.", "Smith"), ("Prof. Williams", "Williams"),
    ("Revd Jones", "Jones"), ("Mx Taylor", "Taylor"), ("Mary-Jane Robinson", "Mary-Jane Robinson"),
    ("Emily", "Emily"), ("Grace Hopper", "Grace Hopper"), ("Ms Begum", "Begum"), ("Lukasz Wojcik", "Lukasz Wojcik"),
    ("Niamh Kelly", "Niamh Kelly"), ("Dafydd Williams", "Dafydd Williams"), ("Nguyen Thi Mai", "Nguyen Mai"),
    ("Xiaoming Li", "Xiaoming"),
]  # fmt: skip


def name_removed(text: str, name: str) -> bool:
    left = redact_person_names(text).casefold()
    return not any(re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", left) for word in name.split())


def detection_rates() -> tuple[float, float]:
    """(share of texts where a name was found, share where every word of the name was removed)."""
    found = sum(bool(find_person_names(text)) for text, _ in NAMES) / len(NAMES)
    removed = sum(name_removed(text, name) for text, name in NAMES) / len(NAMES)
    return found, removed


def test_school_words_raise_no_alarm() -> None:
    assert len(NOT_NAMES) >= 60
    alarms = {text: [f.found for f in find_person_names(text)] for text in NOT_NAMES if find_person_names(text)}
    assert alarms == {}


def test_an_upload_of_ordinary_roles_groups_and_items_warns_of_no_name() -> None:
    roles = NOT_NAMES[:60]
    items = ["Reading for pleasure", "The mark scheme is clear", "Will you recommend the programme to a colleague?"]
    preview = preview_survey([("Coaching programme - May half term.xlsx", leads_workbook(roles, items, people=60))])
    assert preview.ok, [str(p) for p in preview.problems][:5]
    # The SEND column's one name ("Miss Patel's group") is the only name in the workbook.
    assert [n.what for n in preview.names_found] == ["pupil group"]
    assert preview.name == "Coaching programme May half term"


def test_at_least_nine_in_ten_names_are_found() -> None:
    assert len(NAMES) >= 50
    found, removed = detection_rates()
    assert found >= 0.9, f"found in {found:.0%} of the texts"
    assert removed >= 0.9, f"removed from {removed:.0%} of the texts"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Head of maths - Ahmed Khan", "Head of maths - A**** K***"),
        ("Mrs O'Brien (Y6)", "Mrs O'B**** (Y6)"),
        ("Survey results - Sarah Jones", "Survey results - S**** J****"),
    ],
)
def test_names_are_masked_keeping_first_letters(text: str, expected: str) -> None:
    assert mask_person_names(text) == expected
    assert mask_name("Ahmed Khan") == "A**** K***"


# -- the page --------------------------------------------------------------------------------------


def elements_in_order(node) -> list:
    found = [node]
    for child in getattr(node, "children", {}).values():
        found += elements_in_order(child)
    return found


def test_the_page_shows_the_names_and_the_choice_before_the_import_button(writable_demo_path: Path, monkeypatch):
    with Store(writable_demo_path) as store:
        before = int(store.count_rows("surveys"))
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [(FILE_NAME, leads_workbook())]
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    choice = next(r for r in app.radio if r.label == "People's names in the upload")
    assert choice.value == "Replace names with [name] before storing"
    warning = next(w for w in app.warning if "hold a person's name" in str(w.value))
    assert "A\\*\\*\\*\\* K\\*\\*\\*" in str(warning.value) or "A**** K***" in str(warning.value)
    order = [(getattr(e, "key", None), getattr(e, "label", None)) for e in elements_in_order(app.main)]
    radio_at = next(i for i, (_, label) in enumerate(order) if label == "People's names in the upload")
    button_at = next(i for i, (key, _) in enumerate(order) if key == "questionnaire_import")
    assert radio_at < button_at
    choice.set_value("Keep as typed").run()
    assert not app.exception, [e.value for e in app.exception]
    assert next(r for r in app.radio if r.label == "People's names in the upload").value == "Keep as typed"
    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path, read_only=True) as store:
        assert int(store.count_rows("surveys")) == before + 1
        roles = set(store.read("SELECT role FROM survey_responses WHERE role IS NOT NULL").role)
    assert "Head of maths - Ahmed Khan" in roles, "the user chose to keep the names"


def test_the_page_replaces_names_by_default(writable_demo_path: Path, monkeypatch) -> None:
    app = open_app(writable_demo_path, monkeypatch, PAGE)
    app.session_state[FILES_KEY] = [(FILE_NAME, leads_workbook())]
    app.run()
    app.button(key="questionnaire_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    with Store(writable_demo_path, read_only=True) as store:
        roles = set(store.read("SELECT role FROM survey_responses WHERE role IS NOT NULL").role)
        log = store.read("SELECT file_name FROM imports_log WHERE target = 'survey'")
    assert "Head of maths - [name]" in roles
    assert not [r for r in roles if "Khan" in str(r) or "O'Brien" in str(r)]
    assert "Survey results - [name].xlsx" in set(log.file_name)
