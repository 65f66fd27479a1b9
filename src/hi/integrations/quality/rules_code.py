"""The checks on a service's code: the HTTP client only, docstrings, module size, and what it publishes and enqueues."""
from __future__ import annotations

import ast

from ..contract.gateway import Capability
from ..outbox.directives import handlers as registered_handlers
from ..outbox.events import EVENT_TYPES
from .model import Subject
from .source import SourceFile, TextResolver, argument, source_files
from .standards import MAX_MODULE_LINES, NETWORK_MODULES

#: Topics of the framework's own directives start with this (a service may enqueue them: hi.sync_entities).
FRAMEWORK_TOPICS = "hi."


def network_module(name: str) -> str:
    """The network module `name` is or lies under ('' when none)."""
    return next((module for module in NETWORK_MODULES if name == module or name.startswith(module + ".")), "")


def check_http_client_only(subject: Subject) -> list[str]:
    """No production module imports a network library: provider calls go through the framework's HTTP client."""
    problems = []
    for source in source_files(subject.app_dir, subject.app):
        if source.area != "production":
            continue
        seen = set()
        for name, line in source.imported_modules():
            module = network_module(name)
            if module and (module, line) not in seen:
                seen.add((module, line))
                problems.append(f"{source.relative}:{line} imports {module}: call the provider through the framework's "
                                "HTTP client (client_for_integration, oauth_client) or a WebsocketListener")
    return problems


def needs_no_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    """Python's own methods (__init__, __str__, …) and Django's Meta classes say what they are by their name."""
    name = getattr(node, "name", "")
    dunder = name.startswith("__") and name.endswith("__")
    return dunder or (isinstance(node, ast.ClassDef) and name == "Meta" and isinstance(parent, ast.ClassDef))


def docstring_problems(source: SourceFile) -> list[str]:
    """Each module, class and function of the file without a docstring, or with one longer than a line."""
    found: list[tuple[int, str]] = []
    if source.tree.body:
        docstring = ast.get_docstring(source.tree, clean=False)
        if docstring is None:
            found.append((1, "the module has no docstring"))
        elif "\n" in docstring.strip():
            found.append((1, "the module's docstring is more than one line (put the why in comments)"))
    stack: list[tuple[ast.AST, ast.AST | None]] = [(child, None) for child in source.tree.body]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not needs_no_docstring(node, parent):
            docstring = ast.get_docstring(node, clean=False)
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            if docstring is None:
                found.append((node.lineno, f"{kind} {node.name} has no docstring"))
            elif "\n" in docstring.strip():
                found.append((node.lineno, f"{kind} {node.name}'s docstring is more than one line (put the why in comments)"))
        stack += [(child, node) for child in ast.iter_child_nodes(node)]
    return [f"{source.relative}:{line} {text}" for line, text in sorted(found)]


def check_docstrings(subject: Subject) -> list[str]:
    """Every module, class and function of the production code and the simulator has a one-line docstring."""
    problems = []
    for source in source_files(subject.app_dir, subject.app):
        if source.area in ("production", "simulator"):
            problems += docstring_problems(source)
    return problems


def check_module_size(subject: Subject) -> list[str]:
    """No module of the service (tests and simulator included, migrations aside) is over the limit."""
    return [f"{source.relative} has {source.lines} lines (over {MAX_MODULE_LINES}): split it in two"
            for source in source_files(subject.app_dir, subject.app)
            if source.area != "migrations" and source.lines > MAX_MODULE_LINES]


def check_events_catalogued(subject: Subject) -> list[str]:
    """Every publish() of the production code names, as text hi can read, an event type of the catalog."""
    files = source_files(subject.app_dir, subject.app)
    resolver = TextResolver(files)
    problems = []
    for source in files:
        if source.area != "production":
            continue
        for call in source.calls_to("publish"):
            event_type = resolver.text(argument(call, 0, "event_type"), source)
            if event_type is None:
                problems.append(f"{source.relative}:{call.lineno} publish() is given a type hi cannot read without "
                                "running the code: pass a string literal or a module constant")
            elif event_type not in EVENT_TYPES:
                problems.append(f"{source.relative}:{call.lineno} publishes {event_type!r}, which is not in the event "
                                "catalog: register_event_type() it in the AppConfig's ready()")
    return problems


def policy_problem(handler: object) -> str:
    """What is wrong with a directive handler's retry policy ('' when nothing)."""
    schedule, max_attempts = getattr(handler, "schedule", None), getattr(handler, "max_attempts", None)
    if not isinstance(schedule, tuple) or not all(isinstance(wait, (int, float)) and wait > 0 for wait in schedule):
        return f"its schedule {schedule!r} is not a tuple of waits in seconds"
    if max_attempts is not None and (not isinstance(max_attempts, int) or max_attempts < 1):
        return f"its max_attempts {max_attempts!r} is not a whole number of 1 or more"
    if not schedule and max_attempts != 1:
        return "it has no retry schedule (give waits, or max_attempts=1 to say it never retries)"
    return ""


def check_directives_handled(subject: Subject) -> list[str]:
    """Each declared handler is named <type id>.<verb> with a retry policy; each enqueue() names a topic with a handler."""
    gateway = subject.gateway
    declared = gateway.directive_handlers() if gateway.supports(Capability.DIRECTIVE_HANDLERS) else []
    problems, topics = [], set()
    for handler in declared:
        topic = getattr(handler, "topic", None)
        if not isinstance(topic, str) or not topic.startswith(f"{subject.type_id}."):
            problems.append(f"directive topic {topic!r} is not named {subject.type_id}.<verb>")
        if topic in topics:
            problems.append(f"directive topic {topic!r} is declared twice")
        topics.add(topic)
        if not callable(getattr(handler, "run", None)):
            problems.append(f"the handler of {topic!r} has nothing to run")
        if problem := policy_problem(handler):
            problems.append(f"the handler of {topic!r} has no usable retry policy: {problem}")
    framework = {topic for topic in registered_handlers() if topic.startswith(FRAMEWORK_TOPICS)}
    files = source_files(subject.app_dir, subject.app)
    resolver = TextResolver(files)
    for source in files:
        if source.area != "production":
            continue
        for call in source.calls_to("enqueue"):
            topic = resolver.text(argument(call, 1, "topic"), source)
            if topic is None:
                problems.append(f"{source.relative}:{call.lineno} enqueue() is given a topic hi cannot read without "
                                "running the code: pass a string literal or a module constant")
            elif topic not in topics | framework:
                problems.append(f"{source.relative}:{call.lineno} enqueues {topic!r}, which no handler of the service "
                                "runs: return a DirectiveHandler for it from directive_handlers()")
    return problems
