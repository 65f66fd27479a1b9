"""The quality checklist: the rules every service passes, checked by the test suite and printed by `manage.py hi_quality`."""
# It inspects services (their files, their tests' source, their simulator, their diagnostics), so it stands outside
# the framework's runtime rooms, like checks.py; it imports no service by name (it finds them through IntegrationType)
# and no development dependency. `standards` holds its conventions as data, for the scaffold to follow.
from ..core.errors import RuleNotApplicable
from . import standards
from .model import Result, Rule, ServiceReport, Status, Subject
from .report import render_json, render_text
from .rules import RULES, RULES_BY_ID
from .runner import check_service, run_checklist, run_rule, subject_for

__all__ = [
    "standards", "RULES", "RULES_BY_ID", "Rule", "Result", "ServiceReport", "Status", "Subject", "RuleNotApplicable",
    "check_service", "run_checklist", "run_rule", "subject_for", "render_json", "render_text",
]
