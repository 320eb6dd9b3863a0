"""Numeric bounds in a grammar: no value outside a schema's bounds can be derived.

Each rule `providers.grammar.numeric_rule` writes is read here as GBNF by a small
translator to a regular expression (the rules use only literals, character classes,
groups, alternation and ? * +), and checked against every candidate in a dense range of
integers and decimals: a derivable value is always inside the bounds, and every value
inside them (within the digits a grammar allows) is derivable. The grammar llama.cpp
really runs is checked in tests/test_local.py, with the bundled model pushed towards the
wrong answer.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from providers.grammar import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, numeric_rule, schema_bounds

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(\[[^\]]*\])|([()|?*+]|\{\d+,\d+\}))')


def gbnf_to_regex(expression: str) -> str:
    out, position = [], 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        assert match, f"not GBNF this translator knows at {expression[position:]!r}"
        literal, char_class, operator = match.groups()
        if literal:
            out.append(re.escape(json.loads(literal)))
        elif char_class:
            out.append(char_class)
        else:
            out.append("(?:" if operator == "(" else operator)
        position = match.end()
    return "".join(out)


def within(value: Decimal, schema: dict) -> bool:
    low, high = schema_bounds(schema)
    if low is not None and (value < low.value or (value == low.value and not low.inclusive)):
        return False
    return high is None or value < high.value or (value == high.value and high.inclusive)


def candidates() -> list[str]:
    """Integers from -1200 to 1200, and decimals from -13 to 13 with one to three places,
    written with and without trailing zeros."""
    out = {str(n) for n in range(-1200, 1201)}
    for thousandths in range(-13_000, 13_001):
        value = Decimal(thousandths) / 1000
        for places in (1, 2, 3):
            text = f"{value:.{places}f}"
            if Decimal(text) == value:
                out.add(text)
    return sorted(out - {"-0", "-0.0", "-0.00", "-0.000"})  # a grammar need not write minus zero


SCHEMAS = [
    {"type": "integer", "minimum": 1},  # the triage priority that went to 0
    {"type": "integer", "minimum": 1, "maximum": 10},
    {"type": "integer", "maximum": 7},
    {"type": "integer", "exclusiveMinimum": -3, "exclusiveMaximum": 250},
    {"type": "integer", "minimum": -1050, "maximum": -17},
    {"type": "integer", "minimum": 0.5, "maximum": 99.5},
    {"type": "integer", "minimum": 5, "exclusiveMinimum": 5},  # both: the tighter wins
    {"type": "integer", "minimum": 3, "exclusiveMinimum": True},  # draft 4's flag
    {"type": "number", "minimum": 0.5, "exclusiveMaximum": 2.25},
    {"type": "number", "exclusiveMinimum": 0},
    {"type": "number", "minimum": 0, "maximum": 1},
    {"type": "number", "maximum": -0.5},
    {"type": "number", "exclusiveMinimum": -2.05, "maximum": 3},
    {"type": "number", "minimum": 1.125, "maximum": 1.5},
    {"type": "number", "minimum": -0.75, "exclusiveMaximum": -0.125},
    {"type": "number", "exclusiveMinimum": 9.99, "exclusiveMaximum": 10.001},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[json.dumps(s) for s in SCHEMAS])
def test_a_bounded_rule_derives_exactly_the_values_inside_its_bounds(schema):
    pattern = re.compile(gbnf_to_regex(numeric_rule(schema)))
    integer = schema["type"] == "integer"
    derived, missing = [], []
    for text in candidates():
        value = Decimal(text)
        valid = within(value, schema) and not (integer and "." in text)
        if pattern.fullmatch(text):
            if not valid:
                derived.append(text)
        elif valid:
            missing.append(text)
    assert derived == [], f"out of bounds but derivable: {derived[:10]}"
    assert missing == [], f"inside the bounds but not derivable: {missing[:10]}"


def test_without_an_upper_bound_the_integral_part_is_kept_short():
    pattern = re.compile(gbnf_to_regex(numeric_rule({"type": "integer", "minimum": 1})))
    assert pattern.fullmatch("9" * MAX_INTEGER_DIGITS) and not pattern.fullmatch("1" + "0" * MAX_INTEGER_DIGITS)
    assert not pattern.fullmatch("0") and not pattern.fullmatch("-1") and not pattern.fullmatch("01")


def test_fractions_are_kept_short_unless_a_bound_needs_more_digits():
    pattern = re.compile(gbnf_to_regex(numeric_rule({"type": "number", "exclusiveMinimum": 0.25, "maximum": 1})))
    assert pattern.fullmatch("0.25" + "0" * (MAX_FRACTION_DIGITS - 3) + "1")
    assert not pattern.fullmatch("0.25" + "0" * (MAX_FRACTION_DIGITS - 2) + "1")  # a model cannot loop on zeros
    assert not pattern.fullmatch("0.25") and not pattern.fullmatch("1.5")
    long = re.compile(gbnf_to_regex(numeric_rule({"type": "number", "minimum": 0.123456789, "maximum": 1})))
    assert long.fullmatch("0.123456789") and not long.fullmatch("0.123456788")


def test_only_bounded_numbers_get_a_rule():
    assert numeric_rule({"type": "integer"}) is None
    assert numeric_rule({"type": "string", "minimum": 1}) is None
    assert numeric_rule({"type": "integer", "minimum": 1, "enum": [1, 2]}) is None
    with pytest.raises(ValueError, match="no value satisfies"):
        numeric_rule({"type": "integer", "minimum": 5, "maximum": 4})


def test_the_triage_grammar_holds_priority_to_its_minimum():
    """The rule llama.cpp gets for `actions[].priority` (minimum 1) derives 1, 42, never 0."""
    pytest.importorskip("llama_cpp", reason="driftcheck[local] is not installed")
    from app.triage.model import ActiveTriage
    from providers.grammar import schema_grammar
    from providers.structured import bounded_schema

    grammar = schema_grammar(json.dumps(bounded_schema(ActiveTriage.model_json_schema()), sort_keys=True))
    rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
    [kv] = [body for name, body in rules.items() if name.endswith("priority-kv")]
    value_rule = kv.split('":" space ', 1)[1].strip()
    assert value_rule != "integer"  # the converter's own rule allows 0
    pattern = re.compile(gbnf_to_regex(rules[value_rule].removesuffix(" space")))
    assert pattern.fullmatch("1") and pattern.fullmatch("42") and not pattern.fullmatch("0")


async def test_a_json_object_endpoint_gets_the_grammar_with_its_bounds(fake, make_provider):
    """llama-cpp-python's server would build its own grammar from the schema and ignore the
    bounds: the grammar driftcheck built is sent instead, with the endpoint's own params."""
    pytest.importorskip("llama_cpp", reason="driftcheck[local] is not installed")
    from app.triage.model import ActiveTriage
    from providers import Request
    from providers.spec import Endpoint
    from tests.fakeserver import Reply

    lab = Endpoint(
        name="lab", base_url=fake.openai_base_url, structured_output="json_object", params={"temperature": 0.2}
    )
    fake.script(Reply(text="{}"))
    await make_provider("lab:smollm2", endpoints={"lab": lab}).complete(
        Request.ask("triage this", output_schema=ActiveTriage)
    )
    [sent] = fake.requests
    assert "response_format" not in sent.body and sent.body["temperature"] == 0.2
    rules = dict(line.split(" ::= ", 1) for line in sent.body["grammar"].splitlines())
    [kv] = [body for name, body in rules.items() if name.endswith("priority-kv")]
    assert not kv.endswith(" integer")  # a rule of its own, with the minimum in it
