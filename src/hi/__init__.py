"""hi: an integration gateway for Django."""

__version__ = "0.1.0"
