"""The checks on a service's tests, read without running them: the contract tests on its simulator, the inbound contract tests."""
from __future__ import annotations

import ast

from ..contract.gateway import Capability
from ..core.errors import RuleNotApplicable
from .model import Subject
from .source import SourceFile, literal, source_files

KIT = "hi.integrations.testing"
#: The hooks a GatewayContractTests subclass must fill in.
CONTRACT_HOOKS = ("start_simulator", "valid_attributes", "bad_auth_attributes")


def methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    """The methods a class defines itself."""
    return {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}


def assigned(cls: ast.ClassDef, name: str) -> ast.AST | None:
    """The value a class body assigns to `name` (None when it does not)."""
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    return None


def names_used(function: ast.FunctionDef) -> set[str]:
    """Every plain name a function's body reads (its annotations left out: naming a type starts nothing)."""
    return {node.id for statement in function.body for node in ast.walk(statement) if isinstance(node, ast.Name)}


def contract_class_problems(cls: ast.ClassDef, source: SourceFile, subject: Subject) -> list[str]:
    """What a GatewayContractTests subclass misses: the type, a hook, or a start_simulator() on the service's own simulator."""
    problems = []
    kind = assigned(cls, "integration_type")
    if not (isinstance(kind, ast.Attribute) and kind.attr == subject.member.name):
        problems.append(f"{cls.name}.integration_type is not IntegrationType.{subject.member.name}")
    hooks = methods(cls)
    missing = [hook for hook in CONTRACT_HOOKS if hook not in hooks]
    if missing:
        problems.append(f"{cls.name} does not fill in {', '.join(f'{hook}()' for hook in missing)}")
    simulator = set(source.imported_from(f"{subject.app}.simulator"))
    if "start_simulator" in hooks and not names_used(hooks["start_simulator"]) & simulator:
        problems.append(f"{cls.name}.start_simulator() does not start the service's own simulator "
                        f"(import it from {subject.app}.simulator)")
    return problems


def check_contract_tests(subject: Subject) -> list[str]:
    """tests/test_contract.py subclasses GatewayContractTests for this type, with every hook, on the service's own simulator."""
    path = subject.app_dir / "tests" / "test_contract.py"
    if not path.exists():
        return ["tests/test_contract.py is missing: subclass hi.integrations.testing.GatewayContractTests there"]
    source = SourceFile(path, "tests/test_contract.py", subject.app)
    classes = source.subclasses("GatewayContractTests", (KIT, f"{KIT}.contract"))
    if not classes:
        return ["no class in tests/test_contract.py subclasses hi.integrations.testing.GatewayContractTests"]
    found = [contract_class_problems(cls, source, subject) for cls in classes]
    return [] if any(not problems for problems in found) else [problem for problems in found for problem in problems]


def inbound_class_problems(cls: ast.ClassDef, source: SourceFile) -> list[str]:
    """What an InboundReceiverContractTests subclass misses: the hooks, and a stale request or the reason there is none."""
    problems = []
    hooks = methods(cls)
    missing = [hook for hook in ("integration", "valid_body", "signed_headers") if hook not in hooks]
    if missing:
        problems.append(f"{source.relative}: {cls.name} does not fill in {', '.join(missing)}")
    reason = assigned(cls, "no_timestamp_reason")
    if "stale_signed_headers" not in hooks and not (literal(reason) or "").strip():
        problems.append(f"{source.relative}: {cls.name} neither signs a stale request (stale_signed_headers()) nor says "
                        "why the provider's signature covers no time (no_timestamp_reason)")
    return problems


def check_inbound_tests(subject: Subject) -> list[str]:
    """A service that receives webhooks subclasses InboundReceiverContractTests in its tests, hooks filled in."""
    if not subject.gateway.supports(Capability.INBOUND_WEBHOOKS):
        raise RuleNotApplicable("not applicable: the service receives no webhooks (no Capability.INBOUND_WEBHOOKS)")
    found = []
    for source in source_files(subject.app_dir, subject.app):
        if source.area == "tests":
            found += [(cls, source) for cls in source.subclasses("InboundReceiverContractTests", (f"{KIT}.inbound", KIT))]
    if not found:
        return ["no test class subclasses hi.integrations.testing.inbound.InboundReceiverContractTests (its tests post "
                "a bad signature, a stale request, an oversized body, a body that is not JSON and a duplicate)"]
    problems = [inbound_class_problems(cls, source) for cls, source in found]
    return [] if any(not p for p in problems) else [problem for p in problems for problem in p]
