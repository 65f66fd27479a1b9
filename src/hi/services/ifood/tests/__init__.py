"""Tests of the iFood service."""
