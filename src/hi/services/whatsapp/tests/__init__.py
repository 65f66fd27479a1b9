"""Tests of the WhatsApp service."""
