"""Each rule of the checklist catches what it is for: a copy of a service's tree, broken on purpose, fails it with words that say where."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hi.integrations.quality import RULES_BY_ID, Result, Status, run_rule, subject_for
from hi.integrations.types import IntegrationType

ROOT = Path(__file__).resolve().parents[4]


def copy_of(tmp_path: Path, member: IntegrationType) -> Path:
    """A copy of one service's app and docs page, laid out as in the repository, to break on purpose."""
    app = Path(*member.app.split("."))
    shutil.copytree(ROOT / "src" / app, tmp_path / "src" / app, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "docs" / "services").mkdir(parents=True)
    shutil.copy(ROOT / "docs" / "services" / f"{member.type_id}.md", tmp_path / "docs" / "services")
    return tmp_path


def check(rule_id: str, root: Path, member: IntegrationType = IntegrationType.DEMO) -> Result:
    """One rule on the service as found under `root`."""
    return run_rule(RULES_BY_ID[rule_id], subject_for(member, root))


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there) by `new` in a file of the copy."""
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The demo's app folder in a copy that passes every rule read from files."""
    root = copy_of(tmp_path, IntegrationType.DEMO)
    for rule_id in ("contract-tests", "http-client-only", "docs-page", "standard-files", "module-size", "docstrings",
                    "events-catalogued", "directives-handled"):
        assert check(rule_id, root).status is Status.PASS, rule_id
    return root / "src" / "hi" / "services" / "demo"


def failing(rule_id: str, app_dir: Path, member: IntegrationType = IntegrationType.DEMO) -> list[str]:
    """The problems a rule finds in the copy whose app folder is `app_dir` (asserting it fails)."""
    result = check(rule_id, app_dir.parents[3], member)
    assert result.status is Status.FAIL, result
    return list(result.problems)


def test_contract_tests_that_are_missing_or_run_against_another_provider_fail(demo: Path):
    # when the contract tests start a bare fake provider instead of the service's simulator
    edit(demo / "tests" / "test_contract.py", "sim = DemoSimulator().start()", "sim = FakeProviderServer().start()")
    # then
    assert failing("contract-tests", demo) == [
        "TestDemoContract.start_simulator() does not start the service's own simulator (import it from hi.services.demo.simulator)"]
    # and when the file is gone
    (demo / "tests" / "test_contract.py").unlink()
    assert "tests/test_contract.py is missing" in failing("contract-tests", demo)[0]


def test_contract_tests_for_another_type_fail(demo: Path):
    # when
    edit(demo / "tests" / "test_contract.py", "integration_type = IntegrationType.DEMO", "integration_type = IntegrationType.IFOOD")
    # then
    assert failing("contract-tests", demo) == ["TestDemoContract.integration_type is not IntegrationType.DEMO"]


def test_a_network_library_in_production_code_fails_and_in_the_simulator_it_does_not(demo: Path):
    # when the client imports requests and urllib.request, and the simulator uses a socket
    edit(
        demo / "client.py", "from __future__ import annotations\n",
        "from __future__ import annotations\nimport requests\nfrom urllib import request\n"
    )
    edit(demo / "simulator" / "__init__.py", "from __future__ import annotations\n", "from __future__ import annotations\nimport socket\n")
    # then only the client is named, with its lines
    problems = failing("http-client-only", demo)
    assert [problem.split(" call the provider")[0] for problem in problems] == [
        "client.py:3 imports requests:", "client.py:4 imports urllib.request:"]


def test_a_docs_page_without_a_section_or_an_attribute_fails_naming_them(demo: Path):
    # given
    page = demo.parents[3] / "docs" / "services" / "demo.md"
    # when
    edit(page, "## Troubleshooting", "## When things go wrong")
    edit(page, "| `page_size` |", "| page size |")
    # then
    problems = failing("docs-page", demo)
    assert problems[0].startswith("docs/services/demo.md has no '## Troubleshooting' section")
    assert problems[1] == "docs/services/demo.md does not document the attribute `page_size` (Page size) under '## Set-up parameters'"
    # and without a page at all
    page.unlink()
    assert failing("docs-page", demo)[0].startswith("docs/services/demo.md is missing")


def test_a_heading_variant_is_accepted(demo: Path):
    # when
    edit(demo.parents[3] / "docs" / "services" / "demo.md", "## Known limitations", "## Limitations")
    # then
    assert check("docs-page", demo.parents[3]).status is Status.PASS


def test_file_names_off_the_standard_table_fail(demo: Path):
    # when: a scheduled-jobs module under another name, a prefixed module, an old-style simulator module, no pane template
    (demo / "tasks.py").write_text('"""Jobs."""\n')
    (demo / "demo_utils.py").write_text('"""Helpers."""\n')
    (demo / "simulator_extra.py").write_text('"""More simulator."""\n')
    (demo / "templates" / "demo" / "pane.html").unlink()
    # then
    assert failing("standard-files", demo) == [
        "templates/demo/pane.html is missing (the pane's template)",
        "demo_utils.py repeats the service's name: the standard names carry no prefix",
        "simulator_extra.py belongs in the simulator/ package",
        "tasks.py holds what the standard table names jobs.py: rename it",
    ]


def test_a_module_over_400_lines_fails(demo: Path):
    # when
    (demo / "mapping.py").write_text('"""Long."""\n' + "X = 1\n" * 400)
    # then
    assert failing("module-size", demo) == ["mapping.py has 401 lines (over 400): split it in two"]


def test_a_function_without_a_docstring_or_with_a_long_one_fails(demo: Path):
    # when
    edit(demo / "pane.py", "from __future__ import annotations\n", "from __future__ import annotations\n\n\ndef bare():\n    return 1\n")
    edit(demo / "simulator" / "__init__.py", '"""Speaks the demo provider\'s API: bearer keys, an account, paged items."""',
         '"""Speaks the demo provider\'s API.\n\n    Bearer keys, an account, paged items.\n    """')
    # then
    assert failing("docstrings", demo) == [
        "pane.py:5 function bare has no docstring",
        "simulator/__init__.py:20 class DemoSimulator's docstring is more than one line (put the why in comments)",
    ]


def test_an_event_type_missing_from_the_catalog_fails(demo: Path):
    # when: a literal type nobody registered, and a type computed at run time
    edit(demo / "handlers.py", "from hi.integrations.api import (", "from hi.integrations.api import (\n    publish,")
    (demo / "handlers.py").write_text((demo / "handlers.py").read_text() + (
        "\n\ndef announce(integration):\n"
        '    """Publish two events."""\n'
        '    publish("demo.unheard_of", {}, integration.workspace_id)\n'
        '    publish(f"demo.{integration.pk}", {}, integration.workspace_id)\n'))
    # then
    problems = failing("events-catalogued", demo)
    assert len(problems) == 2
    assert "publishes 'demo.unheard_of', which is not in the event catalog" in problems[0]
    assert "publish() is given a type hi cannot read without running the code" in problems[1]


def test_a_topic_enqueued_without_a_handler_fails_and_a_constant_from_a_sibling_is_read(demo: Path):
    # when: a views module enqueues the handlers' topic constant (fine) and an unknown topic
    (demo / "queueing.py").write_text(
        '"""Queue work."""\nfrom hi.integrations.api import enqueue\n\nfrom .handlers import TOPIC_NOTE\n\n\n'
        "def queue(integration):\n"
        '    """Queue two directives."""\n'
        '    enqueue(integration, TOPIC_NOTE, {"text": "hi"})\n'
        '    enqueue(integration, "demo.nobody_runs", {})\n')
    # then
    assert failing("directives-handled", demo) == [
        "queueing.py:10 enqueues 'demo.nobody_runs', which no handler of the service runs: return a DirectiveHandler "
        "for it from directive_handlers()"]


def test_a_webhook_service_without_the_inbound_contract_tests_fails(tmp_path: Path):
    # given the webhooks service's copy, which passes
    root = copy_of(tmp_path, IntegrationType.WEBHOOK)
    assert check("inbound-tests", root, IntegrationType.WEBHOOK).status is Status.PASS
    tests = root / "src" / "hi" / "services" / "webhook" / "tests"
    # when its receiver's contract class forgets the stale request
    edit(tests / "test_inbound.py", "def stale_signed_headers(", "def old_headers(")
    # then
    [problem] = failing("inbound-tests", tests.parent, IntegrationType.WEBHOOK)
    assert "neither signs a stale request (stale_signed_headers()) nor says why" in problem
    # and when no class subclasses the kit's
    edit(
        tests / "test_inbound.py", "class TestWebhookReceiverContract(InboundReceiverContractTests):", "class TestWebhookReceiverContract:"
    )
    assert "no test class subclasses hi.integrations.testing.inbound.InboundReceiverContractTests" in failing(
        "inbound-tests", tests.parent, IntegrationType.WEBHOOK)[0]


def test_a_service_without_webhooks_is_exempt_from_the_inbound_tests_by_hi(demo: Path):
    # when
    result = check("inbound-tests", demo.parents[3])
    # then
    assert (result.status, result.by) == (Status.EXEMPT, "hi")
    assert result.reason.startswith("not applicable: the service receives no webhooks")
