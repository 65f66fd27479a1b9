"""The checklist's conventions as data: a service's standard files, its docs page's sections, its simulator's hook, its exemptions."""
# `manage.py startintegration` generates services from these, and the checklist checks services against them:
# one source, so a generated service passes at once and the developer guide's table cannot drift from the check.
from __future__ import annotations

from dataclasses import dataclass

from ..contract.gateway import Capability
from ..simulation import STANDARD_KNOBS

__all__ = [
    "SERVICES_PACKAGE", "SIMULATOR_HOOK", "STANDARD_KNOBS", "EXEMPTIONS_ATTRIBUTE", "MAX_MODULE_LINES", "NOT_PRODUCTION",
    "NETWORK_MODULES", "DOCS_PAGE", "DocSection", "DOC_SECTIONS", "ATTRIBUTES_SECTION", "StandardFile", "STANDARD_FILES",
    "MISNAMED", "DECLARATION_MODULES", "docs_page",
]

#: Where services live: the app of type id `x` is `hi.services.x` (its package is named after its type id).
SERVICES_PACKAGE = "hi.services"
#: `<app>.simulator.build()` returns the service's simulator with its defaults, not started: a FakeProviderServer
#: whose POST /_simulator/faults honours the standard fault knobs (STANDARD_KNOBS, from hi.integrations.simulation).
SIMULATOR_HOOK = "build"
#: A gateway class attribute: {rule id: why the rule does not apply to this service}, shown in the checklist.
EXEMPTIONS_ATTRIBUTE = "quality_exemptions"
#: A module past this many lines is two modules.
MAX_MODULE_LINES = 400
#: A service's folders that are not its production code: its line count leaves them out, and the simulator and
#: the tests may talk to the network directly.
NOT_PRODUCTION = ("simulator", "tests", "migrations")
#: Modules a service's production code never imports: provider calls go through the framework's HTTP client
#: (`client_for_integration`, `oauth_client`) and push connections through `WebsocketListener`.
NETWORK_MODULES = (
    "requests", "urllib.request", "urllib3", "http.client", "httpx", "aiohttp", "socket", "websockets", "websocket",
    "pycurl", "ftplib", "smtplib", "telnetlib",
)
#: The docs page of a service, from the repository's root.
DOCS_PAGE = "docs/services/{type_id}.md"


@dataclass(frozen=True)
class DocSection:
    """A section every service's docs page has: its `## ` heading, what it holds, and the headings accepted for it."""

    heading: str
    holds: str
    #: Lower-case beginnings of an accepted `## ` heading (the canonical one included).
    accepted: tuple[str, ...]


#: The sections of docs/services/<type id>.md, in the order a page gives them (iFood's page is the example).
DOC_SECTIONS = (
    DocSection("What it does", "what the service does for the business, in a few lines",
               ("what it does", "what the service does", "overview")),
    DocSection("Set-up parameters", "every attribute by its key (`api_key`), with what to enter and where to find it",
               ("set-up parameters", "setup parameters", "set-up", "setup", "setting up", "configuration", "attributes")),
    DocSection("How data is updated, and how often", "what hi fetches or receives, when, and what the worker runs",
               ("how data is updated", "how data updates", "data updates", "how often")),
    DocSection("Actions", "what an operator can do (console, CLI) and what each does at the provider",
               ("actions",)),
    DocSection("Known limitations", "what the service does not do, or does differently from the provider's own tools",
               ("known limitations", "limitations")),
    DocSection("Troubleshooting", "each state or error an operator sees, what it means and what to do",
               ("troubleshooting",)),
    DocSection("Removal", "what removing the integration does, here and at the provider",
               ("removal", "removing")),
)
#: The section in which every attribute key must appear.
ATTRIBUTES_SECTION = DOC_SECTIONS[1]


@dataclass(frozen=True)
class StandardFile:
    """A file of the standard table: its path in the app (`<name>` is the type id), what it holds, and when it exists."""

    path: str
    holds: str
    #: "always", "optional", or the Capability that needs it.
    needed: str | Capability = "optional"


#: docs/developers.md's table of a service's files, as data.
STANDARD_FILES = (
    StandardFile("__init__.py", "the package", "always"),
    StandardFile("apps.py", "the AppConfig (name hi.services.<name>, label <name>); ready() registers event types", "always"),
    StandardFile("attributes.py", "the attribute enum, an AttributeType", "always"),
    StandardFile("gateway.py", "the singleton gateway, an IntegrationGateway, delegating to the files below", "always"),
    StandardFile("client.py", "the provider's API, one method per call, on the framework's HTTP client; client_for()"),
    StandardFile("handlers.py", "directive handlers and event hooks, and the functions that enqueue their directives",
                 Capability.DIRECTIVE_HANDLERS),
    StandardFile("handlers.py", "event hooks", Capability.EVENT_HOOKS),
    StandardFile("jobs.py", "scheduled jobs and their functions", Capability.SCHEDULED_JOBS),
    StandardFile("listeners.py", "websocket listeners, WebsocketListener subclasses", Capability.WEBSOCKET_LISTENERS),
    StandardFile("inbound.py", "the webhook receiver, an InboundReceiver", Capability.INBOUND_WEBHOOKS),
    StandardFile("pane.py", "pane_context(integration): what the manage page's pane shows", "always"),
    StandardFile("templates/<name>/pane.html", "the pane's template", "always"),
    StandardFile("views.py", "the service's own console pages and actions"),
    StandardFile("urls.py", "their URLs, mounted under /services/<name>/"),
    StandardFile("models.py", "the service's own tables"),
    StandardFile("management/commands/<name>.py", "the service's own manage.py command"),
    StandardFile("actions.py", "an order source's actions per order status"),
    StandardFile("simulator/__init__.py", "the provider's simulator (build(), serve_cli()) on hi.integrations.simulation", "always"),
    StandardFile("static/<name>/logo.svg", "the logo, named by gateway.logo", "always"),
    StandardFile("tests/__init__.py", "the tests package", "always"),
    StandardFile("tests/test_contract.py", "the framework's contract tests against the simulator", "always"),
    StandardFile("tests/test_<name>.py", "provider-specific behaviour, given/when/then"),
)
#: Names that hold a standard file's content under another name: the checklist asks for the standard one.
MISNAMED = {
    "api.py": "client.py", "api_client.py": "client.py", "http.py": "client.py", "provider.py": "client.py",
    "attrs.py": "attributes.py", "config.py": "attributes.py", "settings.py": "attributes.py", "fields.py": "attributes.py",
    "handler.py": "handlers.py", "directives.py": "handlers.py", "hooks.py": "handlers.py",
    "tasks.py": "jobs.py", "cron.py": "jobs.py", "schedule.py": "jobs.py", "job.py": "jobs.py",
    "listener.py": "listeners.py", "websocket.py": "listeners.py", "stream.py": "listeners.py",
    "webhook.py": "inbound.py", "webhooks.py": "inbound.py", "receiver.py": "inbound.py", "receivers.py": "inbound.py",
    "model.py": "models.py", "view.py": "views.py", "panel.py": "pane.py", "panes.py": "pane.py",
    "simulator.py": "simulator/__init__.py", "sim.py": "simulator/__init__.py", "fake.py": "simulator/__init__.py",
}
#: Where each declaration's function is defined, by capability: (declaring method, module in the app).
DECLARATION_MODULES = {
    Capability.DIRECTIVE_HANDLERS: ("directive_handlers", "handlers"),
    Capability.EVENT_HOOKS: ("event_hooks", "handlers"),
    Capability.SCHEDULED_JOBS: ("scheduled_jobs", "jobs"),
}


def docs_page(type_id: str) -> str:
    """The docs page of a type, from the repository's root."""
    return DOCS_PAGE.format(type_id=type_id)
