"""Provider data at the boundary: bounded JSON parsing and text every database stores."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hi.integrations.core.errors import ProviderDataError
from hi.integrations.core.provider_data import MAX_DEPTH, clean_json, clean_text, is_clean_text, loads


def nested(depth: int) -> str:
    """A JSON array nested `depth` levels deep."""
    return "[" * depth + "]" * depth


def test_json_nested_100k_deep_is_refused_with_a_clear_error_not_a_recursion_error():
    """Given 100,000 nested arrays (Python's json raises RecursionError), then a ProviderDataError says why."""
    with pytest.raises(ProviderDataError, match="nested deeper than"):
        loads(nested(100_000))


def test_json_just_past_the_depth_limit_is_refused_and_at_the_limit_is_parsed():
    """Given nesting one past MAX_DEPTH, then it is refused; at MAX_DEPTH it parses."""
    assert loads(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))
    with pytest.raises(ProviderDataError, match=f"nested deeper than {MAX_DEPTH} levels"):
        loads(nested(MAX_DEPTH + 1))
    with pytest.raises(ProviderDataError):
        loads(json.dumps({"a": json.loads(nested(MAX_DEPTH))}))


@pytest.mark.parametrize("text", ["NaN", '{"total": Infinity}', "[-Infinity]"])
def test_nan_and_infinity_literals_are_refused(text):
    """Given JSON that is not JSON (NaN, Infinity), then it is refused, not read as a float."""
    with pytest.raises(ProviderDataError, match="not JSON"):
        loads(text)


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe\xfa", "1" * 5000, b'{"a": 1} x'])
def test_anything_unreadable_is_a_provider_data_error_which_is_a_value_error(data):
    """Given bodies that are not JSON (including a 5,000-digit integer), then one error type, a ValueError."""
    with pytest.raises(ProviderDataError) as caught:
        loads(data)
    assert isinstance(caught.value, ValueError)


def test_decimals_can_be_kept_exact_and_huge_exponents_do_not_become_infinity():
    """Given money as JSON numbers, then parse_float=Decimal keeps them exact, even 1e400."""
    assert loads(b'{"v": 12.10, "big": 1e400}', parse_float=Decimal) == {"v": Decimal("12.10"), "big": Decimal("1e400")}


def test_clean_text_escapes_lone_surrogates_and_nul_and_leaves_everything_else():
    """Given a lone surrogate and a NUL, then both become visible escapes; accents and emoji stay."""
    assert clean_text("a\ud800b\x00c") == "a\\ud800b\\x00c"
    assert clean_text("Açaí 🍇") == "Açaí 🍇"
    assert clean_text("x" * 10, limit=4) == "xxxx"
    assert clean_text(12) == "12"
    clean_text("\udfff").encode("utf-8")  # storable as UTF-8


def test_is_clean_text_tells_whether_a_value_can_be_stored_as_given():
    """Given identity values, then only those without NUL or lone surrogates are clean."""
    assert is_clean_text("evt-1 ✓")
    assert not is_clean_text("evt-\ud800")
    assert not is_clean_text("evt\x00")


def test_clean_json_cleans_keys_and_values_and_drops_non_finite_floats():
    """Given parsed provider data with bad text and NaN, then every string is clean and NaN is null."""
    data = {"k\x00": ["\ud83d", {"n": float("nan")}], "ok": 1.5, "t": (1, 2)}
    assert clean_json(data) == {"k\\x00": ["\\ud83d", {"n": None}], "ok": 1.5, "t": [1, 2]}
    json.dumps(clean_json(data), allow_nan=False).encode("utf-8")


def test_clean_json_refuses_data_nested_past_the_limit():
    """Given data built in code deeper than MAX_DEPTH, then clean_json refuses it instead of recursing on."""
    deep: list = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ProviderDataError):
        clean_json(deep)


def test_an_envelope_can_leave_the_depth_of_its_items_to_the_batch_but_never_recurses_without_bound():
    """Given max_depth=None (a batch envelope), then 40 levels parse and 100,000 are still refused."""
    assert loads(nested(40), max_depth=None)
    with pytest.raises(ProviderDataError, match="nested"):
        loads(nested(100_000), max_depth=None)
