"""startintegration's scaffold: the files each option needs, the registry edited safely, and every refusal leaving the tree as it was."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hi.integrations.core.errors import ScaffoldRefused
from hi.integrations.scaffold import Options, scaffold
from hi.integrations.scaffold.registry import installed_apps, members

ROOT = Path(__file__).resolve().parents[4]
#: The new service's name in these tests (any free name; each test has its own tree).
NAME = "parcels"
BASE = {
    "__init__.py", "apps.py", "attributes.py", "client.py", "gateway.py", "pane.py", "templates/{n}/pane.html",
    "static/{n}/logo.svg", "simulator/__init__.py", "tests/__init__.py", "tests/test_contract.py", "tests/test_{n}.py",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The part of a hi tree the scaffold reads and writes: the registry, the settings, the services' and docs' folders."""
    for relative in ("src/hi/integrations/types.py", "src/hi/settings.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    (tmp_path / "src/hi/services").mkdir(parents=True)
    (tmp_path / "docs/services").mkdir(parents=True)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and folder under root, with the files' bytes."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))}


def package_files(root: Path, name: str) -> set[str]:
    """The files of a service's package, relative to it."""
    package = root / "src/hi/services" / name
    return {str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()}


def test_the_plain_service_gets_the_standard_files_the_docs_page_and_its_registration(tree: Path):
    # when
    created = scaffold(tree, NAME, "Parcel lockers")
    # then
    assert package_files(tree, NAME) == {f.format(n=NAME) for f in BASE}
    assert (tree / f"docs/services/{NAME}.md").read_text().startswith(f"# Parcel lockers (`{NAME}`)\n")
    assert members((tree / "src/hi/integrations/types.py").read_text())[NAME.upper()] == (
        NAME, "Parcel lockers", "Connect hi to Parcel lockers.", f"hi.services.{NAME}.gateway.ParcelsGateway", f"hi.services.{NAME}",
    )
    assert installed_apps((tree / "src/hi/settings.py").read_text())[-1] == f"hi.services.{NAME}"
    assert created.changed == ["src/hi/integrations/types.py", "src/hi/settings.py"]
    assert not [p for p in (tree / "src/hi/services").iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize(
    ("options", "extra"),
    [
        (Options(inbound=True), {"inbound.py"}),
        (Options(orders=True), {"actions.py", "handlers.py"}),
        (Options(poll=True), {"jobs.py"}),
        (Options(auth="none", inbound=True, orders=True, poll=True), {"inbound.py", "actions.py", "handlers.py", "jobs.py"}),
    ],
)
def test_each_option_adds_only_the_files_it_needs(tree: Path, options: Options, extra: set[str]):
    # when
    scaffold(tree, "shop", options=options)
    # then
    assert package_files(tree, "shop") == {f.format(n="shop") for f in BASE} | extra


def test_every_generated_module_has_a_one_line_docstring_and_imports_only_the_front_door(tree: Path):
    # given every part the scaffold can generate
    scaffold(tree, "shop", options=Options(auth="oauth-client-credentials", inbound=True, orders=True, poll=True))
    package = tree / "src/hi/services/shop"
    for path in package.rglob("*.py"):
        module = ast.parse(path.read_text())
        where = path.relative_to(package)
        # then each module, class and function says what it is for, in one line (a test's name says it already)
        nodes = [n for n in ast.walk(module) if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and not n.name.startswith("test_")]
        for node in [module, *nodes]:
            docstring = ast.get_docstring(node)
            assert docstring and "\n" not in docstring, f"{where}: {getattr(node, 'name', 'module')}"
        # and hi's framework comes in through the front door (tests add the kit, the simulator the fake providers)
        kit = {"hi.integrations.testing", "hi.integrations.testing.inbound"}
        allowed = {"hi.integrations.api"} | (kit if where.parts[0] == "tests" else set())
        allowed |= {"hi.integrations.simulation"} if where.parts[0] == "simulator" else set()
        imported = {n.module for n in ast.walk(module) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("hi.integrations")}
        assert imported <= allowed, f"{where} imports {imported - allowed}"


def test_a_label_with_an_ampersand_and_an_apostrophe_stays_as_typed(tree: Path):
    # when
    scaffold(tree, "acme", "Acme & Co's")
    # then Python keeps it as typed, HTML and SVG escape it
    assert 'verbose_name = "Acme & Co\'s"' in (tree / "src/hi/services/acme/apps.py").read_text()
    assert "Acme &amp; Co&#x27;s" in (tree / "src/hi/services/acme/templates/acme/pane.html").read_text()
    assert 'aria-label="Acme &amp; Co&#x27;s"' in (tree / "src/hi/services/acme/static/acme/logo.svg").read_text()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("demo", "IntegrationType.DEMO already has that name"),
        ("ifood", "IntegrationType.IFOOD already has that name"),
        ("auth", "the app 'django.contrib.auth' in INSTALLED_APPS has that label"),
        ("orders", "the app 'hi.orders' in INSTALLED_APPS has that label"),
        ("Airtime", "not a valid name"),
        ("2go", "not a valid name"),
        ("air-time", "not a valid name"),
        ("air time", "not a valid name"),
        ("", "not a valid name"),
        ("air__time", "no double or trailing underscore"),
        ("a" * 33, "too long"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("json", "standard-library module"),
        ("email", "standard-library module"),
        ("django", "installed Python package"),
        ("requests", "installed Python package"),
        ("hi", "installed Python package"),
    ],
)
def test_a_name_that_is_taken_or_unsafe_is_refused_and_nothing_changes(tree: Path, name: str, says: str):
    # given
    before = snapshot(tree)
    # when
    with pytest.raises(ScaffoldRefused) as caught:
        scaffold(tree, name)
    # then
    assert says in str(caught.value)
    assert snapshot(tree) == before


@pytest.mark.parametrize("existing", ["src/hi/services/{name}/", "src/hi/services/{name}/notes.txt", "docs/services/{name}.md"])
def test_existing_files_are_refused_and_nothing_changes(tree: Path, existing: str):
    # given
    path = tree / existing.format(name=NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir() if existing.endswith("/") else path.write_text("mine\n")
    before = snapshot(tree)
    # when
    with pytest.raises(ScaffoldRefused) as caught:
        scaffold(tree, NAME)
    # then
    assert "already exists" in str(caught.value)
    assert snapshot(tree) == before


@pytest.mark.parametrize(
    ("relative", "old", "new", "says"),
    [
        ("src/hi/integrations/types.py", "class IntegrationType(Enum):", "class Kinds(Enum):", "no `class IntegrationType`"),
        ("src/hi/settings.py", "INSTALLED_APPS = [", "INSTALLED_APPS = list(APPS) or [", "INSTALLED_APPS is not a literal list"),
        ("src/hi/settings.py", "INSTALLED_APPS = [", "APPS = [", "no `INSTALLED_APPS = [...]`"),
        ("src/hi/settings.py", '    "{last}",\n]', '    "{last}"]', "not one entry per line"),
        ("src/hi/integrations/types.py", "class IntegrationType(Enum):", "class IntegrationType(Enum:", "does not parse"),
    ],
)
def test_a_registry_whose_markers_are_missing_is_refused_and_nothing_changes(tree: Path, relative: str, old: str, new: str, says: str):
    # given
    path = tree / relative
    last = installed_apps((tree / "src/hi/settings.py").read_text())[-1]
    old, new = old.replace("{last}", last), new.replace("{last}", last)
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    before = snapshot(tree)
    # when
    with pytest.raises(ScaffoldRefused) as caught:
        scaffold(tree, NAME)
    # then
    assert says in str(caught.value)
    assert snapshot(tree) == before


def test_a_comment_after_the_last_app_keeps_its_place_and_the_comma_goes_before_it(tree: Path):
    # given
    path = tree / "src/hi/settings.py"
    last = installed_apps(path.read_text())[-1]
    path.write_text(path.read_text().replace(f'    "{last}",\n]', f'    "{last}"  # the marketplace\n]'))
    # when
    scaffold(tree, NAME)
    # then
    assert f'    "{last}",  # the marketplace\n    "hi.services.{NAME}",\n]' in path.read_text()


def test_a_write_failing_midway_undoes_what_was_written(tree: Path):
    # given a tree where the docs page cannot be created (docs/services is a file), after the package is moved in
    shutil.rmtree(tree / "docs/services")
    (tree / "docs/services").write_text("not a folder\n")
    before = snapshot(tree)
    # when
    with pytest.raises(ScaffoldRefused) as caught:
        scaffold(tree, NAME)
    # then the package, the staging folder and the registry are as before
    assert "Nothing was left behind" in str(caught.value)
    assert snapshot(tree) == before


def test_an_unknown_auth_is_refused(tree: Path):
    # when / then
    with pytest.raises(ScaffoldRefused, match="--auth must be one of"):
        scaffold(tree, NAME, options=Options(auth="basic"))


@pytest.mark.parametrize("label", ['Say "hi"', "a\\b", "{{ x }}", "<b>", "x" * 61, "   "])
def test_a_label_that_would_need_escaping_is_refused(tree: Path, label: str):
    # when / then
    with pytest.raises(ScaffoldRefused):
        scaffold(tree, NAME, label)
    assert not (tree / "src/hi/services" / NAME).exists()


def test_the_command_refuses_a_taken_name_with_a_clear_message():
    # when / then (refused before anything is written, so the repository's own tree is safe to name)
    with pytest.raises(CommandError, match="'demo' is taken: IntegrationType.DEMO already has that name."):
        call_command("startintegration", "demo")
