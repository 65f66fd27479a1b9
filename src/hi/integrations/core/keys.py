"""The identity of an external object: its integration and the provider's id, normalised."""
from __future__ import annotations

from dataclasses import dataclass


def normalize_external_id(external_id: str) -> str:
    """The canonical form of a provider's id: surrounding space removed, case folded."""
    return str(external_id).strip().casefold()


@dataclass(frozen=True)
class IntegrationKey:
    """An external object's identity: the integration and its normalised external id."""

    integration_id: str
    external_id: str

    def __post_init__(self) -> None:
        """Normalise the parts: the integration id as text, the external id cleaned."""
        object.__setattr__(self, "integration_id", str(self.integration_id))
        object.__setattr__(self, "external_id", normalize_external_id(self.external_id))

    def __str__(self) -> str:
        """The key as `<integration id>.<external id>`."""
        return f"{self.integration_id}.{self.external_id}"

    @classmethod
    def parse(cls, text: str) -> "IntegrationKey":
        """Read back the form produced by str()."""
        integration_id, _, external_id = text.partition(".")
        if not external_id:
            raise ValueError(f"Not an integration key: {text!r}")
        return cls(integration_id, external_id)
