"""The checklist itself: every rule with its id, what it asks, how it is checked and why, in the order the report gives them."""
from __future__ import annotations

from .model import Rule, Subject, exemption_problems
from .rules_code import (
    check_directives_handled,
    check_docstrings,
    check_events_catalogued,
    check_http_client_only,
    check_module_size,
)
from .rules_docs import check_docs_page, check_templates_translatable
from .rules_files import check_standard_files
from .rules_live import check_diagnostics_redacted, check_simulator_knobs
from .rules_tests import check_contract_tests, check_inbound_tests


def check_exemptions(subject: Subject) -> list[str]:
    """The gateway's quality_exemptions name known rules, each with a reason."""
    return exemption_problems(subject.exemptions, {rule.id: rule for rule in RULES})


RULES: tuple[Rule, ...] = (
    Rule("contract-tests", "The contract tests run against the service's simulator",
         "tests/test_contract.py has a GatewayContractTests subclass for the type, filling in start_simulator(), "
         "valid_attributes() and bad_auth_attributes(), whose start_simulator() uses the service's simulator package",
         "the lifecycle every service shares (add, test, activate, outage, revoked credentials) is proven per service, "
         "against a provider that speaks its wire format", check_contract_tests),
    Rule("simulator-knobs", "The simulator has the standard fault knobs",
         "starts simulator.build(), posts each knob to /_simulator/faults (status 503, auth_refused, rate_limited with "
         "retry_after_s, delay_s) and sees its effect on the next request",
         "operators and tests provoke an outage, refused credentials, a rate limit and a slow provider the same way for "
         "every provider", check_simulator_knobs),
    Rule("diagnostics-redacted", "Diagnostics redact every secret attribute",
         "builds an integration with a canary in every secret attribute (in a transaction it rolls back), builds its "
         "diagnostics, and decodes them (percent, form, JSON, HTML, base64) looking for a canary",
         "operators attach diagnostics to support requests: a secret there is a secret leaked", check_diagnostics_redacted,
         needs_database=True),
    Rule("events-catalogued", "Every event type the service publishes is in the event catalog",
         "reads each publish() of the production code (its type a literal or a module constant) and looks it up in "
         "EVENT_TYPES", "hooks, the catalog page and docs/events.md are how anyone learns what hi publishes",
         check_events_catalogued),
    Rule("directives-handled", "Every directive topic has a handler and a retry policy",
         "each DirectiveHandler of directive_handlers() is named <type id>.<verb> with a schedule of waits; each "
         "enqueue() of the production code names a topic it handles (or the framework's)",
         "a directive nobody runs waits forever, and one without a policy retries wrongly", check_directives_handled),
    Rule("http-client-only", "No provider call bypasses the framework's HTTP client",
         "the production code (not simulator/, tests/) imports none of requests, urllib.request, urllib3, http.client, "
         "httpx, aiohttp, socket, websockets, …",
         "the client is where timeouts, the deadline, the SSRF guard, retries, the breaker, the call log and redaction "
         "live", check_http_client_only),
    Rule("docs-page", "The docs page has every required section and documents every attribute",
         "docs/services/<type id>.md has the sections of standards.DOC_SECTIONS (or an accepted variant) and names each "
         "attribute key in backticks under the set-up section",
         "operators set up, run, troubleshoot and remove a service from its page", check_docs_page),
    Rule("standard-files", "File names follow the standard table",
         "the files every service has, and those its capabilities need, exist; declarations live in their standard "
         "module; no standard file hides under another name or carries the service's name",
         "a developer who knows one service finds their way in every other", check_standard_files),
    Rule("module-size", "No module over 400 lines",
         "counts the lines of every Python file of the service (migrations aside)",
         "a file past about 400 lines is two files", check_module_size),
    Rule("templates-translatable", "Every user-facing string of the templates is translatable",
         "finds text and title/placeholder/alt/aria-label values outside {% translate %} and {% blocktranslate %} in "
         "the service's templates; applies once hi has translations (LOCALE_PATHS or a locale/ folder)",
         "a translated console must not show one service in English", check_templates_translatable),
    Rule("inbound-tests", "A service that receives webhooks has the inbound contract tests",
         "a test class subclasses InboundReceiverContractTests (bad signature, stale, oversized, not JSON, duplicate), "
         "filling in its hooks", "what a hostile sender can post is the same for every receiver", check_inbound_tests),
    Rule("docstrings", "Every module, class and function has a one-line docstring",
         "reads the production code and the simulator (tests aside; Python's __methods__ and Django's Meta need none)",
         "the project's rule: what a thing is for, in one line; the why goes in comments", check_docstrings),
    Rule("exemptions", "Exemptions name a known rule and give a reason",
         "reads the gateway's quality_exemptions {rule id: reason}",
         "a rule is set aside only for a reason a reviewer can read in the report", check_exemptions, exemptable=False),
)
#: The rules by id.
RULES_BY_ID = {rule.id: rule for rule in RULES}
