"""The benchmarks (`make bench`, not run by the suite) still name modules and names hi has."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench"


def hi_imports() -> list[tuple[str, int, str, str]]:
    """Every `from hi… import name` in bench/*.py: (file, line, module, name)."""
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "hi":
                found += [(path.name, node.lineno, node.module, alias.name) for alias in node.names]
    return found


def test_every_name_a_benchmark_imports_from_hi_exists():
    # Given the benchmarks' imports (most are inside functions, run only by `make bench`)
    imports = hi_imports()
    assert imports, "bench/ names no hi module: the walk found nothing"
    missing = []
    for file, line, module, name in imports:
        # when each is resolved
        target = importlib.import_module(module)
        if name != "*" and not hasattr(target, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"bench/{file}:{line}: {module} has no {name}")
    # then every one exists, so a moved module fails the suite, not the next `make bench`
    assert missing == []
