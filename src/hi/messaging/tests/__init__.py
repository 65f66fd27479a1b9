"""Tests of the messaging hub."""
