"""A llama.cpp grammar (GBNF) from a JSON schema, with every numeric bound enforced.

llama-cpp-python's converter turns a schema into a grammar but ignores `minimum`,
`maximum`, `exclusiveMinimum` and `exclusiveMaximum`, so a small model held to the
triage schema could still write `"priority": 0` and fail validation. Here the converter
is used for everything else, and each bounded `integer` or `number` becomes a rule that
can only derive values inside its bounds:

- integers: the decimal strings of the range, digit by digit (`[1-9] [0-9]?` …);
- numbers: the integral part as for integers, and the fractional digits compared with the
  bound's digit by digit (so `0.5 <= x` allows `0.5`, `0.51`, `0.6`, not `0.49`); bounded
  numbers are written without an exponent.

The integral part of a value with no upper bound has at most `MAX_INTEGER_DIGITS` digits,
and a fraction at most `MAX_FRACTION_DIGITS` (more where a bound needs them), as for every
integer driftcheck asks for: line numbers, counts and scores, never a 16-digit number a
small model can loop on.

llama-cpp-python is imported only when a grammar is built; `numeric_rule` needs nothing.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

MAX_INTEGER_DIGITS = 6
MAX_FRACTION_DIGITS = 6

# Rules of llama-cpp-python's converter that are replaced. Every integer driftcheck asks
# for (line numbers, counts, scores) is a small natural number, but the converter allows
# 16 digits and a sign, and a small model fills them: a finding "at line 1034798265". Six
# digits and no sign keep it in the world of files. And its string characters include raw
# control characters, which JSON forbids; upstream llama.cpp excludes them, as here.
_SAFER_RULES = (
    "integer ::= integral-part space",
    "integral-part ::= [0-9] | [1-9] ([0-9] ([0-9] ([0-9] ([0-9] ([0-9])?)?)?)?)?",
    r'char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])',
)


@dataclass(frozen=True, slots=True)
class Bound:
    value: Decimal
    inclusive: bool


def schema_bounds(schema: dict[str, Any]) -> tuple[Bound | None, Bound | None]:
    """(lower, upper) of a numeric schema; draft-4 boolean `exclusiveMinimum` included."""

    def bound(plain: str, exclusive: str) -> Bound | None:
        limit, strict = schema.get(plain), schema.get(exclusive)
        if isinstance(strict, bool):  # draft 4: a flag on `minimum` / `maximum`
            return None if limit is None else Bound(Decimal(str(limit)), not strict)
        candidates = [Bound(Decimal(str(limit)), True)] if limit is not None else []
        if strict is not None:
            candidates.append(Bound(Decimal(str(strict)), False))
        if not candidates:
            return None
        # The tighter of the two: for a lower bound the larger value (exclusive wins a tie).
        sign = 1 if plain == "minimum" else -1
        return max(candidates, key=lambda b: (sign * b.value, not b.inclusive))

    return bound("minimum", "exclusiveMinimum"), bound("maximum", "exclusiveMaximum")


def numeric_rule(schema: Any) -> str | None:
    """A GBNF expression for a bounded integer or number (without trailing space), or None
    when `schema` is not one. Raises ValueError when no value satisfies the bounds."""
    if not isinstance(schema, dict) or schema.get("type") not in ("integer", "number"):
        return None
    if "enum" in schema or "const" in schema:
        return None
    low, high = schema_bounds(schema)
    if low is None and high is None:
        return None
    alternatives = _integer_alternatives(low, high) if schema["type"] == "integer" else _number_alternatives(low, high)
    if not alternatives:
        raise ValueError(f"no value satisfies the bounds of {json.dumps(schema)}")
    return _choice(alternatives)


# --- integers ---------------------------------------------------------------------------


def _integer_alternatives(low: Bound | None, high: Bound | None) -> list[str]:
    lo = None if low is None else _ceil(low.value) + (0 if low.inclusive or low.value != _ceil(low.value) else 1)
    hi = None if high is None else _floor(high.value) - (0 if high.inclusive or high.value != _floor(high.value) else 1)
    out: list[str] = []
    if hi is None or hi >= 0:  # zero and up
        out += _natural_range(max(lo, 0) if lo is not None else 0, hi)
    if lo is None or lo < 0:  # below zero: "-" and a magnitude from 1
        magnitudes = _natural_range(max(1, -hi) if hi is not None else 1, None if lo is None else -lo)
        out += [_seq('"-"', m) for m in magnitudes]
    return out


def _natural_range(lo: int, hi: int | None) -> list[str]:
    """Decimal strings (no leading zeros) of the whole numbers lo..hi; no upper bound means
    up to MAX_INTEGER_DIGITS digits (or the lower bound's length)."""
    if hi is None:
        hi = 10 ** max(MAX_INTEGER_DIGITS, len(str(lo))) - 1
    out: list[str] = []
    for length in range(len(str(lo)), len(str(hi)) + 1):
        a = max(lo, 10 ** (length - 1) if length > 1 else 0)
        b = min(hi, 10**length - 1)
        if a <= b:
            out += _same_length(str(a), str(b))
    return out


def _same_length(a: str, b: str) -> list[str]:
    """Digit strings s with len(s) == len(a) == len(b) and a <= s <= b."""
    if not a:
        return [""]
    n = len(a) - 1
    if a[0] == b[0]:
        return [_seq(_digit(a[0]), rest) for rest in _same_length(a[1:], b[1:])]
    low_full, high_full = a[1:] == "0" * n, b[1:] == "9" * n  # every continuation allowed
    first, last = int(a[0]) + (0 if low_full else 1), int(b[0]) - (0 if high_full else 1)
    out: list[str] = []
    if not low_full:
        out += [_seq(_digit(a[0]), rest) for rest in _same_length(a[1:], "9" * n)]
    if first <= last:
        out.append(_seq(_digits(first, last), *["[0-9]"] * n))
    if not high_full:
        out += [_seq(_digit(b[0]), rest) for rest in _same_length("0" * n, b[1:])]
    return out


# --- numbers ------------------------------------------------------------------------------


def _number_alternatives(low: Bound | None, high: Bound | None) -> list[str]:
    zero = Decimal(0)
    out: list[str] = []
    if high is None or high.value > zero or (high.value == zero and high.inclusive):  # zero and up
        start = Bound(zero, True) if low is None or low.value < zero else low
        out += _magnitudes(start, high)
    if low is None or low.value < zero:  # below zero: "-" and a magnitude above zero
        start = Bound(-high.value, high.inclusive) if high is not None and high.value < zero else Bound(zero, False)
        end = None if low is None else Bound(-low.value, low.inclusive)
        out += [_seq('"-"', m) for m in _magnitudes(start, end)]
    return out


def _magnitudes(low: Bound, high: Bound | None) -> list[str]:
    """Non-negative JSON numbers (integral part, optional fraction) in [low, high]."""
    int_low, frac_low = _split(low.value)
    lower = (frac_low, low.inclusive)
    if high is None:  # any fraction after any integral part above the lowest
        above = _natural_range(int_low + 1, None)
        return _with_fraction([str(int_low)], lower, None) + (_with_fraction(above, None, None) if above else [])
    int_high, frac_high = _split(high.value)
    upper = (frac_high, high.inclusive)
    if int_low > int_high:
        return []
    if int_low == int_high:
        return _with_fraction([str(int_low)], lower, upper)
    out = _with_fraction([str(int_low)], lower, None)
    if int_low + 1 <= int_high - 1:
        out += _with_fraction(_natural_range(int_low + 1, int_high - 1), None, None)
    return out + _with_fraction([str(int_high)], None, upper)


_FractionBound = tuple[str, bool]  # the bound's fractional digits (no trailing zeros), inclusive


def _with_fraction(integral: Sequence[str], low: _FractionBound | None, high: _FractionBound | None) -> list[str]:
    """The integral parts (literals such as "12", or digit rules) followed by the fractions
    .D whose value 0.D lies between the bounds, as one alternative; [] when none does."""
    room = max([MAX_FRACTION_DIGITS] + [len(b[0]) for b in (low, high) if b is not None])
    digits = _fraction_digits(low, high, nonempty=True, room=room)
    # No fraction at all (the value .0) when zero satisfies both bounds.
    bare = (low is None or low == ("", True)) and (high is None or high[0] != "" or high[1])
    if digits is None and not bare:
        return []
    fraction = "" if digits is None else _seq('"."', digits)
    if bare and fraction:
        fraction = f"({fraction})?"
    return [_seq(_choice([f'"{part}"' if part.isdigit() else part for part in integral]), fraction)]


def _fraction_digits(
    low: _FractionBound | None, high: _FractionBound | None, *, nonempty: bool, room: int
) -> str | None:
    """GBNF for digit strings D of at most `room` digits with low < 0.D < high (or <=, by
    each bound's flag), read as zero-padded; None when there are none."""
    if low == ("", True):
        low = None  # 0.D >= 0: always
    # D may end here (the zeros that follow are its value) only if they satisfy both bounds;
    # a lower bound still open has a non-zero digit to come (or is "above zero").
    zeros_ok = low is None and (high is None or high[0] != "" or high[1])
    if high is not None and high[0] == "":  # nothing but zeros may follow
        return _repeat('"0"', int(nonempty), room) if zeros_ok else None
    if low is None and high is None:
        return _repeat("[0-9]", int(nonempty), room)
    if room == 0:
        return None if nonempty or not zeros_ok else ""
    groups: dict[tuple[_FractionBound | None, _FractionBound | None], list[int]] = {}
    for d in range(10):
        state = _step(low, d, lower=True), _step(high, d, lower=False)
        if state[0] != "fail" and state[1] != "fail":
            groups.setdefault(state, []).append(d)
    alternatives = []
    for (next_low, next_high), ds in groups.items():
        rest = _fraction_digits(next_low, next_high, nonempty=False, room=room - 1)
        if rest is not None:
            alternatives += [_seq(_digits(first, last), rest) for first, last in _runs(ds)]
    if not alternatives:
        return None
    return f"({_choice(alternatives)})?" if zeros_ok and not nonempty else _choice(alternatives)


def _repeat(item: str, least: int, most: int) -> str | None:
    if most < least:
        return None
    if most == 0:
        return ""
    return item if least == most == 1 else f"{item}{{{least},{most}}}"


def _step(bound: _FractionBound | None, d: int, *, lower: bool) -> Any:
    """The bound on the digits after `d`: None when `d` already decides it, "fail" when `d`
    breaks it."""
    if bound is None:
        return None
    digits, inclusive = bound
    if digits == "":  # the lower bound "above zero": any non-zero digit settles it
        return None if d else bound
    first = int(digits[0])
    if d == first:
        return digits[1:], inclusive
    return None if (d > first) == lower else "fail"


# --- GBNF text --------------------------------------------------------------------------


def _split(value: Decimal) -> tuple[int, str]:
    """12.50 -> (12, "5"): the integral part and the fractional digits without trailing zeros."""
    integral = int(value)
    text = format(value - integral, "f")
    return integral, text.partition(".")[2].rstrip("0")


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_FLOOR"))


def _digit(d: str) -> str:
    return f'"{d}"'


def _digits(first: int, last: int) -> str:
    if first == last:
        return f'"{first}"'
    return "[0-9]" if (first, last) == (0, 9) else f"[{first}-{last}]"


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _seq(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _choice(alternatives: list[str]) -> str:
    return alternatives[0] if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"


# --- the whole schema ----------------------------------------------------------------------


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def grammar_if_installed(schema: dict[str, Any]) -> str | None:
    """The grammar for `schema` when llama-cpp-python is installed here, else None."""
    return schema_grammar(json.dumps(schema, sort_keys=True)) if llama_cpp_installed() else None


@lru_cache(maxsize=32)
def schema_grammar(schema_json: str) -> str:
    """The GBNF grammar for a JSON schema (a JSON text, so calls can be cached): llama-cpp-
    python's converter, with bounded numbers made exact and the safer rules above."""
    from llama_cpp.llama_grammar import RESERVED_NAMES, SchemaConverter

    class BoundedConverter(SchemaConverter):  # type: ignore[misc]
        def visit(self, schema: Any, name: str) -> str:
            rule = numeric_rule(schema)
            if rule is None:
                return str(super().visit(schema, name))
            return str(self._add_rule(f"{name}-" if name in RESERVED_NAMES else name or "root", f"{rule} space"))

    converter = BoundedConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    converter.visit(converter.resolve_refs(json.loads(schema_json), "input"), "")
    rules = {rule.split(" ::= ", 1)[0]: rule for rule in _SAFER_RULES}
    lines = converter.format_grammar().splitlines()
    return "\n".join(rules.get(line.split(" ::= ", 1)[0], line) for line in lines)
