"""English is the second language: pages, API errors and the catalogue itself.

zh-hans is the source language (the msgids); fangkong/locale/en holds the English catalogue,
committed as .po and compiled .mo. A user gets English from the browser's Accept-Language or
from the language switcher (Django's set_language view, which stores a django_language cookie).
"""

from __future__ import annotations

import ast
import gettext
import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

CHINESE = re.compile(r"[\u4e00-\u9fff]")
LOCALE_DIR = Path(settings.BASE_DIR) / "fangkong" / "locale"
PO_FILE = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.mo"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-+ #0]*\d*(?:\.\d+)?[sdif]")


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _english(client, path: str) -> str:
    return _page(client.get(path, HTTP_ACCEPT_LANGUAGE="en"))


# --- pages -------------------------------------------------------------------------------


def test_login_page_is_english_for_an_english_browser(client):
    html = _english(client, "/accounts/login/")
    assert '<html lang="en">' in html
    assert "County Epidemic Control Command Platform" in html
    assert "Password" in html
    assert "Log in" in html
    for chinese in ("县疫情防控指挥平台", "密码", "登录"):
        assert chinese not in html


def test_login_page_stays_chinese_by_default(client):
    html = _page(client.get("/accounts/login/"))
    assert '<html lang="zh-hans">' in html
    assert "县疫情防控指挥平台" in html
    assert "Password" not in html


def test_language_switcher_turns_the_home_page_english(users, login):
    client = login(users.commander)
    assert "常用功能" in _page(client.get("/"))

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = _page(client.get("/"))
    assert "Shortcuts" in html
    assert "County command HQ" in html  # the role's name
    assert "Divisions and grids" in html
    for chinese in ("常用功能", "县指挥部", "区划与网格", "您好"):
        assert chinese not in html


def test_people_list_is_english(users, people, login):
    html = _english(login(users.commander), "/people/")
    assert "Find people" in html
    assert "3 people" in html  # the count, pluralised
    assert "Document number" in html
    for chinese in ("人员查询", "证件号码", "共 3 人"):
        assert chinese not in html


def test_person_detail_is_english(users, people, login):
    html = _english(login(users.commander), f"/people/{people.head.pk}/")
    assert "Basic information" in html
    assert "Document type" in html
    assert "Resident ID card" in html
    assert "Head of household" in html
    assert f"Household #{people.household.pk}" in html
    for chinese in ("基本信息", "证件类型", "居民身份证", "与户主关系", "户主"):
        assert chinese not in html


def test_division_page_is_english(users, people, login):
    html = _english(login(users.commander), "/divisions/610326107201/")
    assert "Coverage by subdivision" in html
    assert "Small grids without a grid worker" in html
    assert 'data-label-workers="Grid workers"' in html  # the map's tooltip labels
    assert "Village/community (middle grid)" in html
    for chinese in ("下级覆盖情况", "无网格员的小网格", "盲区", "中网格"):
        assert chinese not in html


# --- API ---------------------------------------------------------------------------------


def test_api_bad_input_answers_in_english(users, county, api_client):
    client = api_client(users.commander)
    response = client.post(
        "/api/v1/people",
        data=json.dumps(
            {
                "name": "",
                "id_number": "360426199101010072",  # the check character should be 1
                "phone": "12345",
                "division_code": county.grid_a.code,
            }
        ),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid input. Please check the marked fields."
    assert set(body["errors"]) == {"name", "id_number", "phone"}
    assert body["errors"]["name"] == ["Name is required"]
    assert "check character" in " ".join(body["errors"]["id_number"])
    assert "11-digit" in " ".join(body["errors"]["phone"])
    assert not CHINESE.search(json.dumps(body, ensure_ascii=False))


def test_api_schema_errors_answer_in_english(users, api_client):
    response = api_client(users.commander).get(
        "/api/v1/divisions?level=abc", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {"level": ["Must be an integer"]}
    assert not CHINESE.search(json.dumps(body, ensure_ascii=False))


def test_api_errors_stay_chinese_without_accept_language(users, api_client):
    response = api_client(users.commander).get("/api/v1/divisions?level=abc")

    assert response.status_code == 400
    assert response.json()["errors"] == {"level": ["应为整数"]}


# --- the catalogue -----------------------------------------------------------------------


def _po_entries(path: Path) -> list[dict]:
    """Every entry of a .po file: flags, msgctxt, msgid, msgid_plural, msgstr(s)."""
    entries: list[dict] = []
    entry: dict = {"flags": set(), "msgstr": {}}
    key: tuple | str | None = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {"flags": set(), "msgstr": {}}, None
        elif line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] += value
            else:
                entry[key] += value
        else:
            keyword, _, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if match:
                key = ("msgstr", int(match.group(1)))
                entry["msgstr"][key[1]] = value
            elif keyword == "msgstr":
                key = ("msgstr", 0)
                entry["msgstr"][0] = value
            else:
                key = keyword
                entry[key] = value
    return entries


def _messages() -> list[dict]:
    return [e for e in _po_entries(PO_FILE) if e["msgid"]]  # skip the header


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    messages = _messages()
    assert len(messages) > 300
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in _po_entries(PO_FILE) if "fuzzy" in e["flags"]]
    plural_short = [e["msgid"] for e in messages if "msgid_plural" in e and len(e["msgstr"]) != 2]
    assert untranslated == []
    assert fuzzy == []
    assert plural_short == []


def test_catalogue_keeps_every_placeholder_and_has_no_chinese_left():
    for entry in _messages():
        sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
        for index, text in entry["msgstr"].items():
            source = sources[min(index, 1)]
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), entry
        translated = " ".join(entry["msgstr"].values())
        # Chinese stays only where it is literal input (accepted column headers, 男/女) or
        # the language's own name in the switcher.
        kept = re.sub(r"区划代码, 名称, 上级代码|男/女", "", translated)
        if entry["msgid"] != "简体中文":
            assert not CHINESE.search(kept), entry["msgid"]


def test_compiled_catalogue_matches_the_po_file():
    """The committed .mo (used on machines without gettext) is compiled from this .po."""
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in _messages():
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            for n, index in ((1, 0), (2, 1)):
                if context:
                    got = compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                else:
                    got = compiled.ngettext(entry["msgid"], entry["msgid_plural"], n)
                assert got == entry["msgstr"][index], entry["msgid"]
        elif context:
            assert compiled.pgettext(context, entry["msgid"]) == entry["msgstr"][0]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge", "msgattrib")),
    reason="GNU gettext is not installed",
)
def test_catalogue_covers_every_translatable_string_in_the_code(tmp_path, monkeypatch, settings):
    """A fresh extraction finds no msgid that the committed catalogue lacks.

    When this fails, run `fangkong makemessages -l en --no-obsolete --ignore=.venv
    --ignore=node_modules --ignore=var --ignore=bench`, translate the new entries and
    `fangkong compilemessages --ignore=.venv --ignore=node_modules --ignore=var`.
    """
    # makemessages writes into any `locale` directory it meets, so it runs on a copy of the
    # sources (Python, templates) that has none; the committed catalogue is left alone.
    base = Path(settings.BASE_DIR)
    sources = tmp_path / "src"

    def _skip(directory: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name in {"locale", "__pycache__", "static"}
            or (Path(directory, name).is_file() and not name.endswith((".py", ".html", ".txt")))
        }

    for top in ("config", "fangkong"):
        shutil.copytree(base / top, sources / top, ignore=_skip)
    committed_text = PO_FILE.read_text(encoding="utf-8")
    monkeypatch.chdir(sources)
    settings.LOCALE_PATHS = [tmp_path / "locale"]

    call_command("makemessages", locale=["en"], verbosity=0)

    extracted = {
        (e.get("msgctxt"), e["msgid"])
        for e in _po_entries(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")
        if e["msgid"]
    }
    committed = {(e.get("msgctxt"), e["msgid"]) for e in _messages()}
    assert PO_FILE.read_text(encoding="utf-8") == committed_text
    assert len(extracted) > 300
    assert sorted(extracted - committed) == []
