"""The docs tell the truth about this repository: the paths and commands they name exist, and nothing cites a file outside it."""
from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands

from hi.integrations.quality import source as service_source

ROOT = Path(__file__).resolve().parents[3]
#: What an operator or a developer reads.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
DOC_NAMES = {doc.name for doc in DOCS}
#: Everything that may cite a document: the docs, the code (comments and docstrings), benchmarks, scripts.
CITING = [*DOCS, *sorted((ROOT / "src").rglob("*.py")), *sorted((ROOT / "src").rglob("*.html")),
          *sorted((ROOT / "bench").rglob("*.py")), *sorted((ROOT / "scripts").rglob("*.sh")), ROOT / "Makefile",
          ROOT / ".importlinter"]
#: Where hi's Prometheus metrics are named: a backticked `hi_...` name there is a metric, not a command.
METRICS = ROOT / "src" / "hi" / "integrations" / "console" / "metrics.py"

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")
SRC_PATH = re.compile(r"(?<![\w/.])(src/[^\s`'\"),;]+)")
#: A path inside hi's packages given from a folder of theirs (`integrations/console/middleware.py`, `outbound/http.py`).
PACKAGE_PATH = re.compile(r"(?<![\w/.-])([a-z_]+/[\w./-]*\.py)\b")
MANAGE = re.compile(r"manage\.py\s+([A-Za-z_][\w-]*)")
HI_NAME = re.compile(r"^(hi_[a-z_]+)(?![\w{])")
#: A placeholder or a pattern, not one path: `src/hi/services/<name>/`, `simulator_*.py`, `…`.
PLACEHOLDER = re.compile(r"[<>*{}…]|\.\.\.")
URL = re.compile(r"https?://\S+")
MD_FILE = re.compile(r"[\w./<>*{}…-]*\.md\b")
#: The developer guide, whose tutorial quotes a service's code and records its size.
GUIDE = ROOT / "docs" / "developers.md"
#: A quote of a file: `<!-- excerpt: src/... -->` right before a fenced block; a line `...` marks a cut.
EXCERPT = re.compile(r"^<!-- excerpt: (\S+) -->\n```[^\n]*\n(.*?)^```", re.S | re.M)
ELISION = "..."
#: `manage.py hi_quality --type <id>`'s output, quoted: its first line records the production code's size.
QUALITY = re.compile(r"^<!-- quality: (\w+) -->\n```[^\n]*\n[^\n]*production code (\d+) lines", re.M)
#: A table of a service's production files and their lines, under `<!-- line-counts: src/hi/services/<id> -->`.
LINE_COUNTS = re.compile(r"^<!-- line-counts: src/hi/services/(\w+) -->\n((?:\|[^\n]*\n)+)", re.M)


def code_texts(markdown: str) -> list[str]:
    """The code in a markdown text: fenced blocks, and backticked spans outside them."""
    blocks = FENCE.findall(markdown)
    return blocks + SPAN.findall(FENCE.sub("", markdown))


def source_files() -> list[str]:
    """Every file under src/, as a path relative to it."""
    return [str(path.relative_to(ROOT / "src")) for path in (ROOT / "src").rglob("*") if "__pycache__" not in path.parts]


def missing_paths(markdown: str) -> list[str]:
    """Each `src/...` path named in the text's code that does not exist, and each module path from hi's folders that no file ends with."""
    missing = []
    files = source_files()
    folders = {part for name in files for part in Path(name).parts[:-1]}
    for code in code_texts(markdown):
        for match in SRC_PATH.finditer(code):
            path = re.sub(r":\d+$", "", match.group(1).rstrip(".:"))
            if not PLACEHOLDER.search(path) and not (ROOT / path).exists():
                missing.append(path)
        for match in PACKAGE_PATH.finditer(code):
            path = match.group(1)
            if path.split("/")[0] in folders and not any(name == path or name.endswith("/" + path) for name in files):
                missing.append(path)
    return missing


def metric_names() -> set[str]:
    """The names of hi's Prometheus metrics."""
    return set(re.findall(r'"(hi_[a-z_]+)"', METRICS.read_text()))


def unknown_commands(markdown: str, commands: set[str], metrics: set[str]) -> list[str]:
    """Each `manage.py <name>`, or backticked `hi_<name>` that is not a metric, naming no management command."""
    unknown = []
    spans = SPAN.findall(FENCE.sub("", markdown))
    for code in code_texts(markdown):
        unknown += [name for name in MANAGE.findall(code) if name not in commands]
    for span in spans:
        match = HI_NAME.match(span)
        if match and match.group(1) not in commands | metrics:
            unknown.append(match.group(1))
    return unknown


def cited_outside(path: Path, text: str) -> list[str]:
    """Each markdown file the text names that is not in the repository, and each section sign not in an RFC citation."""
    found = []
    text = URL.sub("", text)
    for name in MD_FILE.findall(text):
        if PLACEHOLDER.search(name) or name == ".md":
            continue
        bases = (path.parent, ROOT, ROOT / "docs")
        if any((base / name).resolve().is_file() for base in bases):
            continue
        if "/" not in name and name in DOC_NAMES:
            continue  # a page named on its own ("webhook.md"), as a link's text
        found.append(name)
    found += [line.strip() for line in text.splitlines() if "§" in line and not re.search(r"RFC \d+", line)]
    return found


def excerpt_problems(markdown: str) -> list[str]:
    """Each quoted excerpt whose file is missing, or a line of which is not one of its file's lines (in the quote's order)."""
    problems = []
    for path, code in EXCERPT.findall(markdown):
        source = ROOT / path
        if not source.is_file():
            problems.append(f"{path}: no such file")
            continue
        lines, at = [line.rstrip() for line in source.read_text().splitlines()], 0
        for line in code.splitlines():
            if line.strip() in ("", ELISION):
                continue
            try:
                at = lines.index(line.rstrip(), at) + 1
            except ValueError:
                problems.append(f"{path}: {line.strip()[:80]!r} is not there, or not in this order")
    return problems


def production_files(type_id: str) -> dict[str, int]:
    """The lines of each production file of a service (what hi_quality counts), by its path in the app."""
    app_dir = ROOT / "src" / "hi" / "services" / type_id
    return {source.relative: len(source.text.splitlines()) for source in service_source.source_files(app_dir, f"hi.services.{type_id}")
            if source.area == "production"}


def test_every_src_path_the_docs_name_exists():
    """Given README.md and docs/, then every backticked or fenced `src/...` path names a file or folder of the repository."""
    found = {str(doc.relative_to(ROOT)): missing for doc in DOCS if (missing := missing_paths(doc.read_text()))}
    assert found == {}


def test_every_command_the_docs_name_exists():
    """Given README.md and docs/, then every `manage.py <command>` and `hi_<command>` is one of the project's or Django's commands."""
    commands, metrics = set(get_commands()), metric_names()
    found = {str(doc.relative_to(ROOT)): unknown for doc in DOCS if (unknown := unknown_commands(doc.read_text(), commands, metrics))}
    assert found == {}
    assert {"hi_worker", "hi_simulator", "integration", "orders", "hi_breaker_state"} <= commands | metrics


def test_nothing_cites_a_document_outside_the_repository():
    """Given the docs, the code, the benchmarks and the scripts, then every .md they name is in the repository, and § cites an RFC."""
    found = {}
    for path in CITING:
        if path.is_file() and path != Path(__file__).resolve():
            if outside := cited_outside(path, path.read_text(errors="replace")):
                found[str(path.relative_to(ROOT))] = outside
    assert found == {}


def test_the_checks_catch_what_they_are_for():
    """Given a page naming a missing path, an unknown command and an outside document, then each check names it."""
    page = (
        "Run `manage.py hi_wrker` or `hi_simulatr demo`, then read `src/hi/integrations/nowhere.py`.\n"
        "```sh\nmanage.py integraton list\n```\n"
        "Moved: `integrations/middleware.py`. Fine: `manage.py hi_worker`, `hi_workers_alive == 0`, `src/hi/services/<name>/`,\n"
        "`src/hi/settings.py`, `console/middleware.py`, `django_tasks_db/models.py` (not hi's).\n"
    )
    assert missing_paths(page) == ["src/hi/integrations/nowhere.py", "integrations/middleware.py"]
    assert sorted(unknown_commands(page, set(get_commands()), metric_names())) == ["hi_simulatr", "hi_wrker", "integraton"]
    citing = ROOT / "docs" / "architecture.md"
    assert cited_outside(citing, "See PLAN.md and services/ifood.md; RFC 9110 §9.2.2 says so.") == ["PLAN.md"]
    line = "Read developers.md and ../README.md, and https://example.com/spec.md §1.3."
    assert cited_outside(citing, line) == ["Read developers.md and ../README.md, and  §1.3."]


def test_the_code_the_docs_quote_is_the_files_own():
    """Given the docs' quoted excerpts, then every line of each is a line of the file it names, in order; the tutorial has them."""
    assert len(EXCERPT.findall(GUIDE.read_text())) >= 10
    found = {str(doc.relative_to(ROOT)): problems for doc in DOCS if (problems := excerpt_problems(doc.read_text()))}
    assert found == {}


def test_the_line_counts_the_guide_records_are_the_services_own():
    """Given the tutorial's hi_quality output, its per-file table and its bold line counts, then each is today's count."""
    text = GUIDE.read_text()
    recorded = QUALITY.findall(text)
    assert [type_id for type_id, _ in recorded] == ["airtime"]
    for type_id, count in recorded:
        assert int(count) == service_source.production_lines(ROOT / "src" / "hi" / "services" / type_id, f"hi.services.{type_id}")
    tables = LINE_COUNTS.findall(text)
    assert [type_id for type_id, _ in tables] == ["airtime"]
    for type_id, table in tables:
        rows = {name: int(lines) for name, lines in re.findall(r"^\| `([^`]+)` \| (\d+) \|", table, re.M)}
        assert rows == production_files(type_id)
    bold = [int(count) for count in re.findall(r"\*\*[^*\n]*?(\d+) lines[^*\n]*\*\*", text)]
    assert bold and set(bold) == {int(recorded[0][1])}


def test_the_excerpt_check_catches_a_quote_that_drifted():
    """Given quotes of a real file, then a changed line, lines out of order and a missing file are named; cuts are not."""
    good = "<!-- excerpt: src/hi/tests/test_docs.py -->\n```python\nfrom __future__ import annotations\n...\nimport re\n```\n"
    changed = good.replace("import re", "import regex")
    swapped = "<!-- excerpt: src/hi/tests/test_docs.py -->\n```python\nimport re\nfrom __future__ import annotations\n```\n"
    missing = "<!-- excerpt: src/hi/nowhere.py -->\n```python\nx = 1\n```\n"
    assert excerpt_problems(good) == []
    assert excerpt_problems(changed) == ["src/hi/tests/test_docs.py: 'import regex' is not there, or not in this order"]
    said = "src/hi/tests/test_docs.py: 'from __future__ import annotations' is not there, or not in this order"
    assert excerpt_problems(swapped) == [said]
    assert excerpt_problems(missing) == ["src/hi/nowhere.py: no such file"]
