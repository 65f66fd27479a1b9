"""get_integration_gateway(): the process-wide, lazily created singleton gateway per type."""
from __future__ import annotations

import threading

from django.utils.module_loading import import_string

from .contract.gateway import IntegrationGateway
from .types import IntegrationType

_gateways: dict[IntegrationType, IntegrationGateway] = {}
_lock = threading.Lock()


def get_integration_gateway(integration_type: IntegrationType | str) -> IntegrationGateway:
    """Return the singleton gateway of a type, creating it once even under concurrent callers."""
    if not isinstance(integration_type, IntegrationType):
        integration_type = IntegrationType.from_id(integration_type)
    gateway = _gateways.get(integration_type)
    if gateway is not None:
        return gateway
    with _lock:
        gateway = _gateways.get(integration_type)
        if gateway is None:
            gateway_class = import_string(integration_type.gateway_path)
            gateway = gateway_class()
            _gateways[integration_type] = gateway
    return gateway
