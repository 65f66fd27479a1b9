"""Tests of the orders hub."""
