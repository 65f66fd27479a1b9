"""The checklist's conventions and the developer guide say the same: the standard files and the docs page's sections."""
from __future__ import annotations

from pathlib import Path

from hi.integrations.quality.standards import DOC_SECTIONS, STANDARD_FILES

ROOT = Path(__file__).resolve().parents[4]
GUIDE = (ROOT / "docs" / "developers.md").read_text()


def section(heading: str) -> str:
    """One `## ` section of the developer guide."""
    return GUIDE.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_guide_s_table_names_every_standard_file():
    # given
    table = section("The files of a service")
    # then: each file, or the package it opens (`simulator/`), is in the table
    missing = [standard.path for standard in STANDARD_FILES
               if f"`{standard.path}`" not in table
               and not (standard.path.endswith("/__init__.py") and f"`{standard.path.rsplit('/', 1)[0]}/`" in table)]
    assert missing == []


def test_the_guide_lists_every_section_of_a_docs_page():
    # given
    checklist = section("Quality checklist")
    # then
    assert [entry.heading for entry in DOC_SECTIONS if f"**{entry.heading}**" not in checklist] == []
