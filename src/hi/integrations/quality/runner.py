"""Running the checklist: each rule on one service, its declared exemptions honoured, into one report per service."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Iterable

from django.conf import settings

from ..core.errors import RuleNotApplicable
from ..factory import get_integration_gateway
from ..types import IntegrationType
from .model import Result, Rule, ServiceReport, Status, Subject, valid_exemptions
from .rules import RULES, RULES_BY_ID
from .source import production_lines
from .standards import EXEMPTIONS_ATTRIBUTE, docs_page

logger = logging.getLogger(__name__)


def subject_for(member: IntegrationType, root: Path | None = None) -> Subject:
    """The service of `member` as found in the tree at `root` (default: this repository; a copy to break on purpose)."""
    gateway = get_integration_gateway(member)
    if root is None:
        app_dir = Path(importlib.import_module(member.app).__path__[0])
        root = Path(settings.BASE_DIR)
    else:
        app_dir = root / "src" / Path(*member.app.split("."))
    return Subject(member=member, app_dir=app_dir, docs_page=root / docs_page(member.type_id), gateway=gateway,
                   exemptions=getattr(type(gateway), EXEMPTIONS_ATTRIBUTE, {}))


def run_rule(rule: Rule, subject: Subject) -> Result:
    """One rule on one service, its exemption honoured: pass, fail with the problems, or exempt with why."""
    exempted = valid_exemptions(subject.exemptions, RULES_BY_ID)
    if rule.exemptable and rule.id in exempted:
        return Result(rule.id, Status.EXEMPT, exempted[rule.id], by="service")
    try:
        problems = rule.check(subject)
    except RuleNotApplicable as exc:
        return Result(rule.id, Status.EXEMPT, str(exc), by="hi")
    except Exception as exc:  # noqa: BLE001 - a service that breaks a check fails that rule; the report goes on
        logger.exception("The quality check %s failed on %s", rule.id, subject.type_id)
        problems = [f"the check could not run: {type(exc).__name__}: {exc}"]
    if not problems:
        return Result(rule.id, Status.PASS)
    return Result(rule.id, Status.FAIL, "; ".join(problems), problems=tuple(problems))


def check_service(subject: Subject, rules: Iterable[Rule] = RULES) -> ServiceReport:
    """The checklist for one service."""
    return ServiceReport(type_id=subject.type_id, label=subject.member.label,
                         results=tuple(run_rule(rule, subject) for rule in rules),
                         production_lines=production_lines(subject.app_dir, subject.app))


def run_checklist(members: Iterable[IntegrationType] | None = None) -> list[ServiceReport]:
    """The checklist for each service (every IntegrationType member by default)."""
    return [check_service(subject_for(member)) for member in (members if members is not None else IntegrationType)]
