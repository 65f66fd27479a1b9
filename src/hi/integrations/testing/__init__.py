"""The framework's test kit: contract tests, fake provider servers, and the framework's parts a service's tests drive."""
# A service's tests import `hi.integrations.api` and this kit (its modules too: inbound,
# canary, browser, processes, ...), never the framework's private modules: the engine's passes they run
# by hand (claim and execute a directive, process accepted webhooks, a worker process), the set-up flow
# and the lifecycle they drive, and the rows they look at are re-exported here.
from ..config import lifecycle, setup
from ..console.health import integration_health
from ..console.problems import problems
from ..engine import directive_actions, leases
from ..engine.execution import claim, execute
from ..engine.inbound import process_pending
from ..engine.schedule import lease_name
from ..engine.sync import run_sync
from ..engine.worker import WorkerProcess
from ..models import AttributeChange, DirectiveAttempt, ProviderCall, StateChange
from ..simulation import FakeProviderServer, FakeRequest, FakeWebsocketServer, json_response
from .contract import GatewayContractTests

__all__ = [
    # Contract tests and fake providers
    "GatewayContractTests", "FakeProviderServer", "FakeRequest", "FakeWebsocketServer", "json_response",
    # The set-up flow and the lifecycle (modules: setup.add_integration, lifecycle.activate, ...)
    "setup", "lifecycle",
    # The engine's passes, run by hand
    "claim", "execute", "process_pending", "run_sync", "lease_name", "leases", "directive_actions", "WorkerProcess",
    # What the console computes and the rows tests look at
    "integration_health", "problems", "AttributeChange", "DirectiveAttempt", "ProviderCall", "StateChange",
]
