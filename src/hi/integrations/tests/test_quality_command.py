"""`manage.py hi_quality [--json] [--type ID]`: the checklist per service, and exit status 1 when a rule fails."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hi.integrations.quality import RULES

pytestmark = pytest.mark.django_db


def hi_quality(*args: str) -> str:
    """What the command prints."""
    out = io.StringIO()
    call_command("hi_quality", *args, stdout=out)
    return out.getvalue()


def test_the_text_report_lists_each_rule_with_its_outcome_and_the_production_size():
    # when
    text = hi_quality("--type", "demo")
    # then
    assert text.startswith("Demo provider (demo): passes; production code ")
    for rule in RULES:
        assert f" {rule.id} " in text and rule.title in text
    assert "exempt templates-translatable" in text and "not applicable: the console is not translated yet (by hi)" in text
    assert text.rstrip().endswith("1 of 1 service(s) pass the checklist.")


def test_the_json_report_has_every_rule_per_service():
    # when
    report = json.loads(hi_quality("--json", "--type", "webhook", "--type", "ifood"))
    # then
    assert report["passed"] is True
    assert [service["type"] for service in report["services"]] == ["webhook", "ifood"]
    for service in report["services"]:
        assert [result["rule"] for result in service["results"]] == [rule.id for rule in RULES]
        assert isinstance(service["production_lines"], int) and service["production_lines"] > 0
        assert {result["status"] for result in service["results"]} <= {"pass", "exempt"}


def test_a_failed_rule_prints_its_problems_and_exits_1(settings, tmp_path: Path):
    # given hi got a translation catalog, and the demo's templates are not translated
    (tmp_path / "pt_BR").mkdir()
    settings.LOCALE_PATHS = [tmp_path]
    out = io.StringIO()
    # when
    with pytest.raises(SystemExit) as exited:
        call_command("hi_quality", "--type", "demo", stdout=out)
    # then
    assert exited.value.code == 1
    text = out.getvalue()
    assert "Demo provider (demo): 1 rule(s) failed" in text and "FAIL   templates-translatable" in text
    assert "- templates/demo/pane.html:" in text and "0 of 1 service(s) pass the checklist." in text


def test_an_unknown_type_is_refused_with_the_known_ones():
    # when
    with pytest.raises(CommandError) as refused:
        hi_quality("--type", "nope")
    # then
    assert "Unknown integration type 'nope'." in str(refused.value) and "Known types: demo, " in str(refused.value)
