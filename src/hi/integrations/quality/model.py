"""What the checklist is made of: a rule, the service it checks, one rule's result and a service's report."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping

from ..contract.gateway import IntegrationGateway
from ..types import IntegrationType


class Status(str, Enum):
    """A rule's outcome for one service."""

    PASS = "pass"
    FAIL = "fail"
    EXEMPT = "exempt"


@dataclass(frozen=True)
class Subject:
    """The service under check: its type, its app's folder, its docs page, its gateway and the exemptions it declares."""

    member: IntegrationType
    app_dir: Path
    docs_page: Path
    gateway: IntegrationGateway
    #: What the gateway declares as not applicable, {rule id: reason}, as declared (checked by the exemptions rule).
    exemptions: Any = field(default_factory=dict)

    @property
    def type_id(self) -> str:
        """The type's id ('demo')."""
        return self.member.type_id

    @property
    def app(self) -> str:
        """The app's dotted name ('hi.services.demo')."""
        return self.member.app


@dataclass(frozen=True)
class Rule:
    """One item of the checklist: an id, what it asks, how it is checked and why, and the check itself."""

    id: str
    title: str
    how: str
    why: str
    #: The problems found, in words (empty: the rule passes); raises core.errors.RuleNotApplicable when it does not apply.
    check: Callable[[Subject], list[str]]
    #: Whether the check writes to the database (inside a transaction it rolls back).
    needs_database: bool = False
    #: Whether a service may declare it not applicable.
    exemptable: bool = True


@dataclass(frozen=True)
class Result:
    """One rule's outcome for one service: pass, fail with the problems, or exempt with the reason and who granted it."""

    rule: str
    status: Status
    reason: str = ""
    problems: tuple[str, ...] = ()
    #: Who declared an exemption: "service" (its gateway's quality_exemptions) or "hi" (the rule does not apply).
    by: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON."""
        return {"rule": self.rule, "status": self.status.value, "reason": self.reason, "problems": list(self.problems),
                "by": self.by}


@dataclass(frozen=True)
class ServiceReport:
    """The checklist for one service: each rule's result and the production code's size."""

    type_id: str
    label: str
    results: tuple[Result, ...]
    #: Lines of Python outside simulator/, tests/ and migrations/.
    production_lines: int

    @property
    def failed(self) -> bool:
        """Whether any rule failed."""
        return any(result.status is Status.FAIL for result in self.results)

    def result(self, rule_id: str) -> Result:
        """The result of one rule (KeyError for a rule that was not run)."""
        for result in self.results:
            if result.rule == rule_id:
                return result
        raise KeyError(rule_id)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {"type": self.type_id, "label": self.label, "passed": not self.failed,
                "production_lines": self.production_lines, "results": [result.as_dict() for result in self.results]}


def exemption_problems(exemptions: Any, known: Mapping[str, Rule]) -> list[str]:
    """What is wrong with a service's declared exemptions: not a mapping, an unknown rule, a rule that cannot be exempted, no reason."""
    if not isinstance(exemptions, Mapping):
        return [f"quality_exemptions is {type(exemptions).__name__}, not a {{rule id: reason}} mapping"]
    problems = []
    for rule_id, reason in exemptions.items():
        if rule_id not in known:
            problems.append(f"it exempts {rule_id!r}, which is no rule (rules: {', '.join(known)})")
        elif not known[rule_id].exemptable:
            problems.append(f"it exempts {rule_id!r}, which no service may be exempted from")
        elif not isinstance(reason, str) or not reason.strip():
            problems.append(f"it exempts {rule_id!r} without a reason: say why the rule does not apply")
    return problems


def valid_exemptions(exemptions: Any, known: Mapping[str, Rule]) -> dict[str, str]:
    """The declared exemptions that take effect: a known, exemptable rule with a reason."""
    if not isinstance(exemptions, Mapping):
        return {}
    return {rule_id: reason.strip() for rule_id, reason in exemptions.items()
            if rule_id in known and known[rule_id].exemptable and isinstance(reason, str) and reason.strip()}
