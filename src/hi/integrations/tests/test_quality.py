"""Every service passes the quality checklist: one test per IntegrationType member and rule, a failure naming both."""
from __future__ import annotations

import pytest

from hi.integrations.quality import RULES, Rule, Status, run_rule, subject_for
from hi.integrations.types import IntegrationType


def cases() -> list:
    """Every (service, rule) pair, the rules that write to the database marked for it."""
    return [pytest.param(member, rule, id=f"{member.type_id}-{rule.id}",
                         marks=[pytest.mark.django_db] if rule.needs_database else [])
            for member in IntegrationType for rule in RULES]


@pytest.mark.parametrize(("member", "rule"), cases())
def test_the_service_passes_the_rule(member: IntegrationType, rule: Rule):
    """Given a service and a rule of the checklist, then the service passes it or is exempt with a reason."""
    # when
    result = run_rule(rule, subject_for(member))
    # then
    assert result.status is not Status.FAIL, (
        f"the {member.type_id} service fails the rule {rule.id!r} ({rule.title}):\n- " + "\n- ".join(result.problems))
    assert result.status is Status.PASS or result.reason.strip()
