"""The tree-sitter source model: languages, symbols, enclosing symbols, line splitting, chunks."""

from __future__ import annotations

import itertools

import pytest

from app.source.model import LineTooLongError, detect_language, load_source, split_lines
from tests.fake_reviews import SAMPLES


def _sample(name: str):
    return load_source(name, (SAMPLES / name).read_text())


def test_python_symbols_with_decorators_methods_and_ranges():
    text = (
        "import os\n"  # 1
        "\n"  # 2
        "@dataclass\n"  # 3
        "class Box:\n"  # 4
        "    size: int\n"  # 5
        "\n"  # 6
        "    def grow(self):\n"  # 7
        "        return 1\n"  # 8
        "\n"  # 9
        "def main():\n"  # 10
        "    def inner():\n"  # 11
        "        pass\n"  # 12
        "    return inner\n"  # 13
    )
    source = load_source("box.py", text)
    assert source.language == "python"
    assert [(s.name, s.kind, s.start, s.end) for s in source.symbols] == [
        ("Box", "class", 3, 8),
        ("Box.grow", "method", 7, 8),
        ("main", "function", 10, 13),
        ("main.inner", "function", 11, 12),
    ]
    assert source.symbol_at(1) is None
    assert source.symbol_at(3).name == "Box"  # the decorator belongs to the class
    assert source.symbol_at(8).name == "Box.grow"
    assert source.symbol_at(12).name == "main.inner"
    assert source.symbol_at(13).name == "main"
    assert source.symbol_at(99) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "upload_service.js",
            {"isAuthorised", "totalSize", 'router.get("/attachments/:name")', 'router.post("/attachments/:name")'},
        ),
        ("quota_limiter.go", {"Limit", "Limiter", "NewLimiter", "Limiter.Allow", "Limiter.Refresh", "Limiter.Usage"}),
        ("ReportExporter.java", {"ReportExporter", "ReportExporter.export", "ReportExporter.countOverdue"}),
    ],
)
def test_symbols_in_other_languages(name, expected):
    source = _sample(name)
    assert not source.parse_errors
    assert expected <= {s.name for s in source.symbols}


def test_enclosing_symbol_of_planted_issues():
    py = _sample("inventory_service.py")
    assert py.symbol_at(35).name == "find_item"
    assert py.symbol_at(49).name == "adjust_stock"
    java = _sample("ReportExporter.java")
    assert java.symbol_at(39).name == "ReportExporter.export"
    go = _sample("quota_limiter.go")
    assert go.symbol_at(36).name == "Limiter.Allow"
    js = _sample("upload_service.js")  # an Express route is named by its method and path
    assert js.symbol_at(34).name == 'router.get("/attachments")'
    assert js.symbol_at(18).name == 'router.get("/attachments/:name")'  # not the inner readFile callback


@pytest.mark.parametrize(
    ("path", "text", "language"),
    [
        ("tool", "#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("tool", "#!/usr/bin/python3.12\nprint(1)\n", "python"),
        ("run", "#!/bin/sh\necho hi\n", "bash"),
        ("cli", "#!/usr/bin/env -S node --no-warnings\nconsole.log(1)\n", "javascript"),
        ("notes.txt", "hello\n", None),
        ("Makefile", "all:\n\techo\n", None),
        ("main.GO", "package main\n", "go"),
    ],
)
def test_language_from_extension_then_shebang(path, text, language):
    assert detect_language(path, text) == language


def test_unknown_language_is_plain_numbered_text():
    source = load_source("notes.txt", "first\nsecond\n")
    assert source.language is None and source.symbols == []
    assert source.numbered() == "1 | first\n2 | second"
    assert source.symbol_at(1) is None
    assert [(c.start, c.end) for c in source.chunks(1000)] == [(1, 2)]


def test_line_splitting_matches_what_editors_number():
    # CRLF, a lone CR and LF all end lines; a form feed and U+2028 do not.
    assert split_lines("a\r\nb\rc\nd\x0ce\u2028f\n") == ["a", "b", "c", "d\x0ce\u2028f"]
    assert split_lines("no newline at end") == ["no newline at end"]
    source = load_source("w.py", "x = 1\r\n\r\ndef f():\r\n    return 2\r\n")
    assert source.symbol_at(4).name == "f" and source.line(4) == "    return 2"


def test_numbered_rendering_uses_absolute_numbers():
    source = load_source("t.txt", "\n".join(f"line {n}" for n in range(1, 121)))
    rendered = source.numbered(98, 101).splitlines()
    assert rendered == [" 98 | line 98", " 99 | line 99", "100 | line 100", "101 | line 101"]


def _big_python(functions: int, body: int = 8) -> str:
    parts = ["import os\n"]
    for n in range(functions):
        parts.append(f"\n\n# helper number {n}\ndef helper_{n}(value):\n")
        parts.extend(f"    value = value + {k}  # step {k}\n" for k in range(body))
        parts.append("    return value\n")
    return "".join(parts)


def test_chunks_cover_the_file_in_order_within_budget_and_cut_between_symbols():
    source = load_source("big.py", _big_python(400))
    chunks = source.chunks(2000)
    assert len(chunks) > 5
    assert chunks[0].start == 1 and chunks[-1].end == source.line_count
    for before, after in itertools.pairwise(chunks):
        assert after.start == before.end + 1
    assert all(c.tokens <= 2000 for c in chunks)
    for chunk in chunks[1:]:
        # each chunk starts with the comment that introduces a function, never mid-body
        assert source.line(chunk.start) == "" and source.symbol_at(chunk.start) is None
        assert source.line(chunk.start + 2).startswith("# helper number")
        assert source.symbol_at(chunk.start + 3) is not None


def test_a_symbol_larger_than_the_budget_is_split_inside():
    body = "".join(f"    x{n} = compute({n})\n" + ("\n" if n % 10 == 9 else "") for n in range(600))
    source = load_source("huge_fn.py", f"def enormous():\n{body}    return 0\n")
    chunks = source.chunks(1500)
    assert len(chunks) > 3 and all(c.tokens <= 1500 for c in chunks)
    assert sum(c.end - c.start + 1 for c in chunks) == source.line_count
    for chunk in chunks[1:]:  # cut after blank lines where there are any
        assert source.line(chunk.start - 1) == ""


def test_a_line_longer_than_the_budget_is_refused():
    source = load_source("bundle.min.js", "var a=1;" * 5000)
    with pytest.raises(LineTooLongError) as err:
        source.chunks(2000)
    assert err.value.line == 1 and "40,000 characters" in str(err.value)
