"""Canary secrets for leak tests (the quality checklist's detector, which needs no pytest, re-exported for tests)."""
from ..quality.canary import CANARY, all_database_text, echo_body, encodings, leaks

__all__ = ["CANARY", "all_database_text", "echo_body", "encodings", "leaks"]
