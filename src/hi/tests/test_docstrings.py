"""Every module, class and function under src/ and bench/ has a docstring of one line; the rest goes in comments."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: Not hi's own code: the scaffold's templates for a new service's files (migrations, generated, are skipped too).
TEMPLATES = "src/hi/integrations/scaffold/files/"
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def held_files() -> list[Path]:
    """The Python files the rule holds: src/ and bench/, without migrations and the scaffold's templates."""
    files = []
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if "migrations" not in path.parts and not relative.startswith(TEMPLATES):
            files.append(path)
    return files


def exempt(node: ast.AST, parent: ast.AST, path: Path) -> bool:
    """Whether a definition needs no docstring: a Django model's or form's `class Meta`, or a test named for what it checks."""
    if isinstance(node, ast.ClassDef) and node.name == "Meta" and isinstance(parent, ast.ClassDef):
        return True
    return "tests" in path.parts and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")


def docstring_problems(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line: ...` for each module, class or function of the file whose docstring is missing or longer than a line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    relative = path.relative_to(root).as_posix()
    problems = []
    pending: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    while pending:
        node, parent = pending.pop()
        pending += [(child, node) for child in ast.iter_child_nodes(node)]
        if not isinstance(node, (ast.Module, *DEFINITIONS)) or exempt(node, parent, path):
            continue
        name = getattr(node, "name", "the module")
        line = getattr(node, "lineno", 1)
        docstring = ast.get_docstring(node, clean=False)
        if docstring is None:
            problems.append(f"{relative}:{line}: {name} has no docstring")
        elif "\n" in docstring.strip():
            problems.append(f"{relative}:{line}: {name}'s docstring is more than one line (say the rest in # comments)")
    return problems


def test_every_module_class_and_function_has_a_one_line_docstring():
    # given every file the rule holds
    files = held_files()
    assert len(files) > 100  # the walk found the tree
    # when each is read
    problems = [problem for path in files for problem in docstring_problems(path)]
    # then none breaks the rule
    assert problems == [], "\n".join(sorted(problems))


def test_the_check_names_a_missing_and_a_multi_line_docstring(tmp_path):
    # given a file under tests/ with a helper lacking a docstring, a class with a two-line one, a Meta and a test
    path = tmp_path / "src" / "tests" / "test_sample.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        '"""A sample."""\n\n\ndef helper():\n    pass\n\n\nclass Thing:\n    """First line.\n\n    Second line.\n    """\n\n'
        "    class Meta:\n        pass\n\n\ndef test_it():\n    pass\n"
    )
    # when it is checked
    problems = docstring_problems(path, root=tmp_path)
    # then the helper and the class are named, with their lines; Meta and the test are not
    assert sorted(problems) == [
        "src/tests/test_sample.py:4: helper has no docstring",
        "src/tests/test_sample.py:8: Thing's docstring is more than one line (say the rest in # comments)",
    ]
