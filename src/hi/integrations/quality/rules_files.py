"""The check on a service's file names: the standard table's files exist where they should, and nothing hides under another name."""
from __future__ import annotations

import ast
import inspect

from ..contract.gateway import Capability
from .model import Subject
from .source import SourceFile, source_files
from .standards import DECLARATION_MODULES, MISNAMED, SERVICES_PACKAGE, STANDARD_FILES


def required_paths(subject: Subject) -> list[tuple[str, str]]:
    """The standard files this service must have, (path, why): the ones every service has, and its capabilities'."""
    paths = []
    for standard in STANDARD_FILES:
        path = standard.path.replace("<name>", subject.type_id)
        if standard.needed == "always":
            paths.append((path, standard.holds))
        elif isinstance(standard.needed, Capability) and subject.gateway.supports(standard.needed):
            paths.append((path, f"{standard.holds}: the gateway declares {standard.needed.name}"))
    return list(dict.fromkeys(paths))


def name_problems(relative: str, type_id: str) -> list[str]:
    """What is wrong with one file's name: a standard file under another name, or a name that repeats the service's."""
    parts = relative.split("/")
    name, stem = parts[-1], parts[-1].rsplit(".", 1)[0]
    problems = []
    if len(parts) == 1 and name in MISNAMED:
        problems.append(f"{relative} holds what the standard table names {MISNAMED[name]}: rename it")
    if len(parts) == 1 and stem.startswith("simulator_"):
        problems.append(f"{relative} belongs in the simulator/ package")
    allowed_own_name = (parts[0] == "tests" and stem.startswith("test_")) or relative == f"management/commands/{type_id}.py"
    if not allowed_own_name and (stem.startswith(f"{type_id}_") or stem.endswith(f"_{type_id}")):
        problems.append(f"{relative} repeats the service's name: the standard names carry no prefix")
    return problems


def declaration_problems(subject: Subject) -> list[str]:
    """Declarations outside their standard module: the gateway, the attributes, handlers, hooks and jobs, the pane."""
    app, gateway = subject.app, subject.gateway
    problems = []
    if subject.member.gateway_path.rsplit(".", 1)[0] != f"{app}.gateway":
        problems.append(f"the gateway is {subject.member.gateway_path}, not in {app}.gateway")
    attribute_type = gateway.attribute_type
    if attribute_type is not None and attribute_type.__module__ != f"{app}.attributes":
        problems.append(f"the attribute enum {attribute_type.__name__} is in {attribute_type.__module__}, not {app}.attributes")
    for capability, (method, module) in DECLARATION_MODULES.items():
        if gateway.supports(capability):
            for declared in getattr(gateway, method)():
                home = inspect.getmodule(declared.run)
                if home is None or home.__name__ != f"{app}.{module}":
                    name = getattr(declared, "topic", None) or getattr(declared, "name", None) or getattr(declared, "pattern", "")
                    problems.append(f"{method}(): {name!r} runs {getattr(declared.run, '__qualname__', declared.run)!r} "
                                    f"from {getattr(home, '__name__', '?')}, not {app}.{module}")
    return problems


def defines_function(source: SourceFile, name: str) -> bool:
    """Whether a module defines a top-level function `name`."""
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in source.tree.body)


def check_standard_files(subject: Subject) -> list[str]:
    """The standard table's files exist (always, or for a declared capability), named as the table names them."""
    problems = []
    if subject.app != f"{SERVICES_PACKAGE}.{subject.type_id}":
        problems.append(f"the app is {subject.app}, not {SERVICES_PACKAGE}.{subject.type_id}: name the package after the type id")
    for path, why in required_paths(subject):
        if not (subject.app_dir / path).is_file():
            problems.append(f"{path} is missing ({why})")
    logo = f"{subject.type_id}/logo.svg"
    if (subject.app_dir / "static" / logo).is_file() and subject.gateway.logo != logo:
        problems.append(f"gateway.logo is {subject.gateway.logo!r}, not {logo!r}")
    files = source_files(subject.app_dir, subject.app)
    for source in files:
        problems += name_problems(source.relative, subject.type_id)
    pane = next((source for source in files if source.relative == "pane.py"), None)
    if pane is not None and not defines_function(pane, "pane_context"):
        problems.append("pane.py defines no pane_context(integration)")
    return problems + declaration_problems(subject)
