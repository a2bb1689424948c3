"""House rules that a tool can check (style.md rules 1, 2, 5, 8, 10 and appendix 9.6).

Cheap AST checks over the source tree; import-linter checks the layers between apps.
"""

from __future__ import annotations

import ast
import io
import pathlib

import pytest
from django.core.management import call_command

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "fangkong"


def _rel(path: pathlib.Path) -> str:
    return str(path.relative_to(PKG))


def _source_files(pattern: str) -> list[pathlib.Path]:
    return sorted(p for p in PKG.glob(pattern) if "tests" not in p.parts)


LAYER_FILES = sorted(
    [
        *PKG.glob("*/services.py"),
        *PKG.glob("*/services_*.py"),
        *PKG.glob("*/selectors.py"),
        *PKG.glob("*/selectors_*.py"),
    ]
)
SERVICE_FILES = [p for p in LAYER_FILES if p.name.startswith("services")]
# Interfaces: pages, API routes. They parse, fetch through selectors, call one service, render.
INTERFACE_FILES = sorted(
    {
        *_source_files("*/views.py"),
        *_source_files("*/views_*.py"),
        *_source_files("*/api.py"),
        *_source_files("*/api_*.py"),
        *_source_files("api/*.py"),
    }
)
ALL_SOURCE = _source_files("**/*.py")
INTERFACE_MODULES = (".views", ".forms", ".serializers", ".admin", ".api", "fangkong.api")

QUERYSET_WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "update",
    "delete",
}
QUERYSET_SOURCES = {"objects", "filter", "exclude", "all", "select_for_update", "get_queryset"}


def _public_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """Public functions, except `*_q` query builders (pure: text in, Q fragment out)."""
    return [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith("_")
        and not node.name.endswith("_q")
    ]


def test_there_are_layer_files_to_check():
    # A broken glob must not make every check below pass vacuously.
    names = {_rel(p) for p in LAYER_FILES}
    assert {"geo/services.py", "accounts/services.py", "people/services.py"} <= names
    assert {"geo/selectors.py", "accounts/selectors.py", "people/selectors.py"} <= names
    assert INTERFACE_FILES


@pytest.mark.parametrize("path", LAYER_FILES, ids=_rel)
def test_service_and_selector_signatures(path: pathlib.Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _public_functions(tree):
        where = f"{_rel(path)}:{node.lineno} {node.name}"
        assert not node.args.args, f"{where}: use keyword-only args (put * first)"
        assert not node.args.posonlyargs, f"{where}: use keyword-only args"
        assert node.args.vararg is None, f"{where}: no *args"
        assert node.returns is not None, f"{where}: missing return annotation"
        for arg in node.args.kwonlyargs:
            assert arg.annotation is not None, f"{where}: argument {arg.arg} has no type"


# Services that open their transactions themselves, on purpose: an import run commits one batch
# at a time (with its resume point), so that a crash loses one batch, not the whole file; an
# import job is created after reading the upload, without holding a transaction (and on SQLite
# the write lock) while a big file is read.
# The public self-report stores a submission in one INSERT ... ON CONFLICT statement, atomic by
# itself: the BEGIN and COMMIT round trips around it would cost the busiest public page a third
# of its database time (bench/selfreport.py). Anything more it does (inline registration) opens
# its own transaction.
OWN_TRANSACTIONS = {
    "imports/services.py": {"import_job_create", "import_job_run", "import_job_start"},
    "travel/services.py": {"self_report_submit"},
    # The public venue-code scan: the same single INSERT ... ON CONFLICT (services_checkins).
    "places/services_checkins.py": {"checkin_record"},
    # The barrier: passage, occupants and audit event in one statement on PostgreSQL
    # (core.db.insert_with_children), a transaction of its own elsewhere (services_passages).
    "travel/services_passages.py": {"passage_register"},
}


@pytest.mark.parametrize("path", SERVICE_FILES, ids=_rel)
def test_every_service_takes_an_actor_and_owns_its_transaction(path: pathlib.Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _public_functions(tree):
        where = f"{_rel(path)}:{node.lineno} {node.name}"
        assert "actor" in {a.arg for a in node.args.kwonlyargs}, f"{where}: writes need actor"
        if node.name in OWN_TRANSACTIONS.get(_rel(path), ()):
            continue
        decorators = {ast.unparse(d) for d in node.decorator_list}
        assert "transaction.atomic" in decorators, f"{where}: decorate with @transaction.atomic"


@pytest.mark.parametrize("path", LAYER_FILES, ids=_rel)
def test_services_and_selectors_do_not_import_interfaces(path: pathlib.Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = ("." * node.level) + node.module
            assert not module.endswith(INTERFACE_MODULES), f"{_rel(path)}: imports {module}"
            assert not module.startswith("fangkong.api"), f"{_rel(path)}: imports {module}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert not alias.name.endswith(INTERFACE_MODULES), f"{_rel(path)}: {alias.name}"


def _receiver_names(node: ast.expr) -> set[str]:
    """Attribute and call names along a chain like Person.objects.filter(...).update."""
    names: set[str] = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        else:
            return names


def _orm_writes(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        receiver = _receiver_names(node.func.value)
        if method in {"save", "delete"} and not receiver & {"session"}:
            found.append(f"{node.lineno}: .{method}()")
        elif method in QUERYSET_WRITES and receiver & QUERYSET_SOURCES:
            found.append(f"{node.lineno}: {ast.unparse(node.func)}()")
    return found


@pytest.mark.parametrize("path", INTERFACE_FILES, ids=_rel)
def test_views_and_api_routes_do_not_write_through_the_orm(path: pathlib.Path) -> None:
    writes = _orm_writes(ast.parse(path.read_text(encoding="utf-8")))
    assert writes == [], f"{_rel(path)} writes without a service: {writes}"


def test_the_orm_write_check_catches_what_it_should():
    # The check above must be able to fail: feed it a view that breaks every rule.
    bad = ast.parse(
        "def v(request):\n"
        "    Person.objects.create(name='x')\n"
        "    Person.objects.filter(pk=1).update(name='y')\n"
        "    Person.objects.filter(pk=2).delete()\n"
        "    p.save()\n"
        "    form.save()\n"
        "    context.update({'a': 1})\n"
        "    request.session.delete()\n"
    )
    assert [w.split(":")[0] for w in _orm_writes(bad)] == ["2", "3", "4", "5", "6"]


def test_no_signal_handlers_drive_the_domain():
    offenders = []
    for path in ALL_SOURCE:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                if name in {"post_save", "pre_save", "post_delete", "pre_delete", "m2m_changed"}:
                    offenders.append(f"{_rel(path)}:{node.lineno} {name}")
                if name == "receiver":
                    offenders.append(f"{_rel(path)}:{node.lineno} @receiver")
    assert offenders == []


def test_no_blind_except():
    offenders = []
    for path in ALL_SOURCE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and (
                node.type is None or ast.unparse(node.type) in {"Exception", "BaseException"}
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}")
    assert offenders == []


def test_models_do_not_import_services():
    for path in _source_files("*/models.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.endswith(("services", "selectors")), _rel(path)


@pytest.mark.django_db
def test_migrations_match_the_models():
    out = io.StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        pytest.fail(f"models changed without a migration:\n{out.getvalue()} (exit {exc.code})")
