"""The framework's test kit: contract tests and fake provider servers that every service reuses."""
from .contract import GatewayContractTests
from .fakeserver import FakeProviderServer, FakeRequest

__all__ = ["FakeProviderServer", "FakeRequest", "GatewayContractTests"]
