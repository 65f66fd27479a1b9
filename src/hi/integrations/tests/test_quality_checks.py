"""The checklist's live checks, its translation check and its exemptions: each catches what it is for."""
from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest

from hi.integrations.quality import RULES, RULES_BY_ID, Rule, RuleNotApplicable, Status, check_service, run_rule, subject_for
from hi.integrations.quality.rules_docs import untranslated
from hi.integrations.quality.rules_live import knob_problems, leak_problems
from hi.integrations.simulation import FakeProviderServer, json_response
from hi.integrations.types import IntegrationType


@pytest.fixture
def fake():
    """A bare fake provider: the standard knobs come with it."""
    with FakeProviderServer() as server:
        yield server


def test_a_simulator_with_the_standard_knobs_has_no_problem(fake):
    # when
    problems = knob_problems(fake.url)
    # then
    assert problems == []
    assert fake.faults.status is None and not fake.faults.auth_refused  # every knob put back


def test_a_simulator_that_ignores_its_knobs_is_told_which_effect_was_missing(fake):
    # given a control endpoint that says yes and changes nothing
    fake.route("POST", "/_simulator/faults", lambda request: json_response(200, {}))
    # when
    problems = knob_problems(fake.url)
    # then (the latency knob is missed too; how fast a 404 comes back is not asserted)
    assert problems[:3] == [
        'an outage: after POST /_simulator/faults {"status": 503} a request got 404' + problems[0].split("got 404")[1],
        'refused credentials: after POST /_simulator/faults {"auth_refused": true} a request got 404' + problems[1].split("got 404")[1],
        'a rate limit: after POST /_simulator/faults {"rate_limited": true, "retry_after_s": 7} a request got 404'
        + problems[2].split("got 404")[1],
    ]
    assert problems[0].endswith("not a 503") and problems[2].endswith("not a 429 with Retry-After: 7")


def test_a_simulator_without_the_control_endpoint_is_told_so(fake):
    # given
    fake.route("GET", "/_simulator/faults", lambda request: json_response(404, {"error": "no route"}))
    # when
    problems = knob_problems(fake.url)
    # then
    assert problems == ["GET /_simulator/faults answered 404, not 200 with the knobs as a JSON object"]


def test_a_canary_readable_in_any_encoding_is_a_leak():
    # given
    canary = "CANARY+RT/echo=99&x-api_key"
    hidden = base64.b64encode(f"user:{canary}".encode()).decode()
    # when
    found = leak_problems(f'{{"service": {{"auth": "Basic {hidden}", "other": "**REDACTED**"}}}}', {"api_key": canary})
    # then
    assert found == ["the secret attribute `api_key` can be read in the diagnostics (base64)"]
    assert leak_problems('{"attributes": {"api_key": "**REDACTED**"}}', {"api_key": canary}) == []


def test_untranslated_template_text_is_found_with_its_line():
    # given
    template = (
        "{% load i18n %}\n"
        "<h2>{% translate \"Notes\" %}</h2>\n"
        "<p>Synced {{ count }} items</p>\n"
        "{% blocktranslate %}Queued {{ n }} notes{% endblocktranslate %}\n"
        "<button title=\"Send it\" class=\"primary\">{% translate \"Send\" %}</button>\n"
        "{# a comment for developers #}{% comment %}Not shown{% endcomment %}\n"
        "<td>&middot; 42 &ndash;</td><a href=\"{% url 'x' %}\">Open</a>\n"
    )
    # when
    found = untranslated(template)
    # then
    assert found == [(3, "Synced"), (3, "items"), (5, 'title="Send it"'), (7, "Open")]


def test_the_translation_rule_applies_once_hi_has_translations(settings, tmp_path: Path):
    # given the console without translations
    rule = RULES_BY_ID["templates-translatable"]
    result = run_rule(rule, subject_for(IntegrationType.DEMO))
    assert (result.status, result.reason, result.by) == (Status.EXEMPT, "not applicable: the console is not translated yet", "hi")
    # when a translation catalog appears
    (tmp_path / "pt_BR").mkdir()
    settings.LOCALE_PATHS = [tmp_path]
    result = run_rule(rule, subject_for(IntegrationType.DEMO))
    # then the demo's pane, written in English, fails it line by line
    assert result.status is Status.FAIL
    assert all(problem.startswith("templates/demo/pane.html:") and "is not translatable" in problem for problem in result.problems)


def test_an_exemption_with_a_reason_is_honoured_and_shown():
    # given
    subject = dataclasses.replace(subject_for(IntegrationType.DEMO), exemptions={"docs-page": "the page moves to the wiki"})
    # when
    result = run_rule(RULES_BY_ID["docs-page"], subject)
    # then
    assert (result.status, result.reason, result.by) == (Status.EXEMPT, "the page moves to the wiki", "service")
    assert run_rule(RULES_BY_ID["exemptions"], subject).status is Status.PASS


@pytest.mark.parametrize(("exemptions", "problem"), [
    ({"docs-page": "  "}, "it exempts 'docs-page' without a reason: say why the rule does not apply"),
    ({"no-such-rule": "because"}, "it exempts 'no-such-rule', which is no rule (rules: "),
    ({"exemptions": "trust me"}, "it exempts 'exemptions', which no service may be exempted from"),
    (["docs-page"], "quality_exemptions is list, not a {rule id: reason} mapping"),
])
def test_an_exemption_without_a_reason_or_for_no_rule_fails_and_exempts_nothing(exemptions, problem):
    # given
    subject = dataclasses.replace(subject_for(IntegrationType.DEMO), exemptions=exemptions)
    # when
    result = run_rule(RULES_BY_ID["exemptions"], subject)
    # then
    assert result.status is Status.FAIL and result.problems[0].startswith(problem)
    assert run_rule(RULES_BY_ID["docs-page"], subject).status is Status.PASS  # the rule still ran


def test_a_check_that_breaks_fails_its_rule_and_the_report_goes_on():
    # given
    def explode(subject):
        """A check with a bug."""
        raise RuntimeError("boom")

    def not_here(subject):
        """A check for something this service does not have."""
        raise RuleNotApplicable("not applicable: no such thing")

    subject = subject_for(IntegrationType.DEMO)
    # when
    broken = run_rule(Rule("broken", "Broken", "how", "why", explode), subject)
    absent = run_rule(Rule("absent", "Absent", "how", "why", not_here), subject)
    # then
    assert (broken.status, broken.problems) == (Status.FAIL, ("the check could not run: RuntimeError: boom",))
    assert (absent.status, absent.by, absent.reason) == (Status.EXEMPT, "hi", "not applicable: no such thing")


def test_a_service_s_report_has_every_rule_and_its_production_size():
    # when (the database is not needed for the rules read from files)
    report = check_service(subject_for(IntegrationType.IFOOD), [rule for rule in RULES if not rule.needs_database])
    # then
    assert [result.rule for result in report.results] == [rule.id for rule in RULES if not rule.needs_database]
    assert not report.failed and report.production_lines > 0
    assert report.as_dict()["production_lines"] == report.production_lines
