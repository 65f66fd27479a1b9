"""The checklist's report as `manage.py hi_quality` prints it: text for people, JSON for machines."""
from __future__ import annotations

import json
import textwrap

from .model import ServiceReport, Status
from .rules import RULES_BY_ID

#: How each status reads in the text report.
MARKS = {Status.PASS: "pass  ", Status.FAIL: "FAIL  ", Status.EXEMPT: "exempt"}
WIDTH = 110


def render_json(reports: list[ServiceReport]) -> str:
    """Every service's report as one JSON document."""
    return json.dumps({"passed": not any(report.failed for report in reports),
                       "services": [report.as_dict() for report in reports]}, indent=2)


def render_text(reports: list[ServiceReport]) -> str:
    """Every service's report: a line per rule, each problem or reason under it, and the production line count."""
    lines = []
    for report in reports:
        failed = sum(result.status is Status.FAIL for result in report.results)
        verdict = f"{failed} rule(s) failed" if failed else "passes"
        lines.append(f"{report.label} ({report.type_id}): {verdict}; production code {report.production_lines} lines")
        for result in report.results:
            lines.append(f"  {MARKS[result.status]} {result.rule:<24} {RULES_BY_ID[result.rule].title}")
            if result.status is Status.EXEMPT:
                who = "declared in the gateway's quality_exemptions" if result.by == "service" else "by hi"
                lines += textwrap.wrap(f"{result.reason} ({who})", WIDTH, initial_indent=" " * 10, subsequent_indent=" " * 12)
            for problem in result.problems:
                lines += textwrap.wrap(problem, WIDTH, initial_indent=" " * 10 + "- ", subsequent_indent=" " * 12)
        lines.append("")
    total = sum(report.failed for report in reports)
    lines.append(f"{len(reports) - total} of {len(reports)} service(s) pass the checklist.")
    return "\n".join(lines)
