"""Attribute values are validated and converted by their declared type."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hi.integrations.contract.attributes import AttributeSpec, ValueType, parse_value, serialize_value, validate_values

URL = AttributeSpec(key="url", label="URL", value_type=ValueType.URL)
NUM = AttributeSpec(key="n", label="Count", value_type=ValueType.INTEGER, min_value=1, max_value=10)
FLAG = AttributeSpec(key="f", label="Flag", value_type=ValueType.BOOLEAN, required=False)
PICK = AttributeSpec(key="p", label="Pick", value_type=ValueType.CHOICE, choices=(("a", "A"), ("b", "B")))
TEXT = AttributeSpec(key="t", label="Text", required=False, default="hello")
SECRET = AttributeSpec(key="s", label="Secret", value_type=ValueType.SECRET)


@pytest.mark.parametrize(
    "spec,raw,expected",
    [
        (URL, " https://example.com/x ", "https://example.com/x"),
        (NUM, "7", 7),
        (FLAG, "yes", True),
        (FLAG, "off", False),
        (FLAG, "", False),
        (PICK, "b", "b"),
        (TEXT, "", ""),
        (SECRET, "s3cr3t", "s3cr3t"),
    ],
)
def test_valid_values_are_converted(spec, raw, expected):
    assert parse_value(spec, raw) == expected


@pytest.mark.parametrize(
    "spec,raw,message",
    [
        (URL, "ftp://example.com", "must be an http:// or https:// URL"),
        (URL, "not a url", "must be an http:// or https:// URL"),
        (NUM, "seven", "whole number"),
        (NUM, "0", "at least 1"),
        (NUM, "11", "at most 10"),
        (FLAG, "maybe", "true or false"),
        (PICK, "c", "one of: a, b"),
        (SECRET, "  ", "is required"),
    ],
)
def test_invalid_values_get_a_clear_message(spec, raw, message):
    with pytest.raises(ValidationError) as caught:
        parse_value(spec, raw)
    assert message in " ".join(caught.value.messages)


def test_validate_values_fills_defaults_and_names_unknown_keys():
    values, errors = validate_values([TEXT, NUM], {"n": "3", "bogus": "1"})
    assert values == {"t": "hello", "n": 3}
    assert "bogus" in errors and "Unknown attribute" in errors["bogus"]


def test_booleans_are_stored_canonically():
    assert serialize_value(FLAG, True) == "true"
    assert serialize_value(FLAG, False) == "false"
    assert serialize_value(NUM, None) == ""
