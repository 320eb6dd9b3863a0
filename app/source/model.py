"""The source model: language, symbols, numbered rendering and chunks of one file.

Tree-sitter does the parsing, with the grammars that Textual's syntax extra installs, so
the review knows which function every line belongs to without asking the model. A file
in a language we have no grammar for is still reviewable: it becomes plain numbered text.

Lines are split on \\r\\n, \\r and \\n only — never with str.splitlines(), which also
breaks on form feeds and Unicode separators and would shift every line number after
them away from what an editor or GitHub shows.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tree_sitter

_NEWLINE = re.compile(r"\r\n|\r|\n")

# extension -> (language name, grammar module)
_BY_EXTENSION: dict[str, str] = {
    ".py": "python",
    ".pyw": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    ".sh": "bash",
    ".bash": "bash",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".rb": "ruby",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".php": "php",
    ".kt": "kotlin",
    ".swift": "swift",
    ".sql": "sql",
    ".tf": "hcl",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".json": "json",
}
_BY_INTERPRETER = {
    "python": "python",
    "python3": "python",
    "node": "javascript",
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
    "ruby": "ruby",
}

# Tree-sitter queries for the symbols worth naming. Every pattern captures the whole
# definition as @def and its name as @name; the kind comes from the pattern's position.
_QUERIES: dict[str, list[tuple[str, str]]] = {
    "python": [
        ("class", "(class_definition name: (identifier) @name) @def"),
        ("function", "(function_definition name: (identifier) @name) @def"),
    ],
    "javascript": [
        ("class", "(class_declaration name: (identifier) @name) @def"),
        ("function", "(function_declaration name: (identifier) @name) @def"),
        ("function", "(generator_function_declaration name: (identifier) @name) @def"),
        ("method", "(method_definition name: (property_identifier) @name) @def"),
        (
            "function",
            "(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @def",
        ),
        # Callbacks registered under a string: Express routes, test cases, event handlers.
        # They are named as a reader would say it: router.get("/attachments/:name").
        (
            "function",
            "(call_expression function: [(identifier) (member_expression)] @name"
            " arguments: (arguments . (string) @label [(arrow_function) (function_expression)])) @def",
        ),
    ],
    "go": [
        ("function", "(function_declaration name: (identifier) @name) @def"),
        # Methods carry their receiver type, as Go itself names them: Limiter.Allow.
        (
            "method",
            "(method_declaration receiver: (parameter_list (parameter_declaration"
            " type: [(type_identifier) @receiver (pointer_type (type_identifier) @receiver)]))"
            " name: (field_identifier) @name) @def",
        ),
        ("method", "(method_declaration name: (field_identifier) @name) @def"),
        ("type", "(type_spec name: (type_identifier) @name) @def"),
    ],
    "java": [
        ("class", "(class_declaration name: (identifier) @name) @def"),
        ("class", "(interface_declaration name: (identifier) @name) @def"),
        ("class", "(enum_declaration name: (identifier) @name) @def"),
        ("class", "(record_declaration name: (identifier) @name) @def"),
        ("method", "(method_declaration name: (identifier) @name) @def"),
        ("method", "(constructor_declaration name: (identifier) @name) @def"),
    ],
    "rust": [
        ("function", "(function_item name: (identifier) @name) @def"),
        ("type", "(struct_item name: (type_identifier) @name) @def"),
        ("type", "(enum_item name: (type_identifier) @name) @def"),
        ("type", "(trait_item name: (type_identifier) @name) @def"),
        ("type", "(impl_item type: (_) @name) @def"),
    ],
    "bash": [("function", "(function_definition name: (word) @name) @def")],
}
_CONTAINERS = {"class", "type"}


@dataclass(frozen=True, slots=True)
class Symbol:
    """A named definition and the lines it spans (1-based, inclusive)."""

    name: str  # qualified: Class.method
    kind: str  # class, function, method, type
    start: int
    end: int
    depth: int = 0

    def contains(self, line: int) -> bool:
        return self.start <= line <= self.end


@dataclass(frozen=True, slots=True)
class Chunk:
    """A contiguous, symbol-aligned range of lines sent in one request."""

    index: int
    start: int
    end: int
    tokens: int
    # For a change: the parts of start..end that are sent (changed code and its context);
    # empty means every line from start to end.
    ranges: tuple[tuple[int, int], ...] = ()

    @property
    def parts(self) -> tuple[tuple[int, int], ...]:
        return self.ranges or ((self.start, self.end),)


@dataclass
class SourceFile:
    path: str
    text: str
    lines: list[str]
    language: str | None  # None: no grammar, reviewed as plain text
    symbols: list[Symbol] = field(default_factory=list)
    parse_errors: bool = False
    redacted: bool = False  # secrets were replaced by [REDACTED:rule] before sending
    _innermost: list[int] = field(default_factory=list, repr=False)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def line(self, number: int) -> str:
        return self.lines[number - 1]

    def symbol_at(self, line: int) -> Symbol | None:
        """The innermost symbol enclosing `line`, or None at module level."""
        if not 1 <= line <= len(self.lines) or not self._innermost:
            return None
        index = self._innermost[line - 1]
        return self.symbols[index] if index >= 0 else None

    def numbered(self, start: int = 1, end: int | None = None, *, marked: frozenset[int] = frozenset()) -> str:
        """Lines start..end with their absolute numbers, as the model will cite them; the
        `marked` lines (a change's new lines) carry a `+` after the number."""
        end = len(self.lines) if end is None else end
        width = len(str(end))
        if not marked:
            return "\n".join(f"{n:>{width}} | {self.lines[n - 1]}" for n in range(start, end + 1))
        return "\n".join(
            f"{n:>{width}} {'+' if n in marked else ' '} | {self.lines[n - 1]}" for n in range(start, end + 1)
        )

    def outline(self, limit: int = 200) -> str:
        """Symbols with their line ranges: what each chunk is told about the whole file."""
        rows = [f"{'  ' * s.depth}{s.kind} {s.name}: lines {s.start}-{s.end}" for s in self.symbols[:limit]]
        if len(self.symbols) > limit:
            rows.append(f"... and {len(self.symbols) - limit} more")
        return "\n".join(rows) or "(no named symbols)"

    def chunks(self, budget_tokens: int) -> list[Chunk]:
        return split_into_chunks(self, budget_tokens)


# --- building the model ---------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    lines = _NEWLINE.split(text)
    if lines and lines[-1] == "":  # a final newline ends the last line; it does not start one
        lines.pop()
    return lines


def detect_language(path: str | Path, text: str) -> str | None:
    """Extension first, then a shebang; None when neither names a language we know."""
    suffix = Path(path).suffix.lower()
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    first = text[:200].split("\n", 1)[0]
    if first.startswith("#!"):
        words = first[2:].strip().split()
        if words:
            program = Path(words[0]).name
            if program == "env" and len(words) > 1:
                program = next((w for w in words[1:] if not w.startswith("-")), "")
            program = re.sub(r"[\d.]+$", "", program) or program  # python3.12 -> python
            return _BY_INTERPRETER.get(program) or _BY_INTERPRETER.get(program + "3")
    return None


@cache
def language_grammar(language: str) -> tuple[Any, Any] | None:
    """(Language, Query) for a language, or None when its grammar is not installed."""
    if language not in _QUERIES:
        return None
    try:
        import tree_sitter

        module = importlib.import_module(f"tree_sitter_{language}")
    except ImportError:
        return None
    lang = tree_sitter.Language(module.language())
    query = tree_sitter.Query(lang, "\n".join(q for _, q in _QUERIES[language]))
    return lang, query


def has_grammar(language: str | None) -> bool:
    return language is not None and language_grammar(language) is not None


def node_text(node: tree_sitter.Node) -> str:
    """A node's source text; tree-sitter types it optional (a node of an edited tree may have none)."""
    return (node.text or b"").decode("utf-8", "replace")


def load_source(path: str, text: str, language: str | None = None) -> SourceFile:
    """Parse `text` into a SourceFile. Never fails: without a grammar it is plain text."""
    lines = split_lines(text)
    language = language or detect_language(path, text)
    source = SourceFile(path=path, text=text, lines=lines, language=language)
    grammar = language_grammar(language) if language else None
    if grammar is None or language is None:
        return source
    import tree_sitter

    lang, query = grammar
    tree = tree_sitter.Parser(lang).parse("\n".join(lines).encode("utf-8"))
    source.parse_errors = tree.root_node.has_error
    found: dict[tuple[int, int], tuple[int, str, str]] = {}
    kinds = [kind for kind, _ in _QUERIES[language]]
    for pattern, captures in tree_sitter.QueryCursor(query).matches(tree.root_node):
        node, name = captures["def"][0], captures["name"][0]
        start = node.start_point.row
        if node.parent is not None and node.parent.type == "decorated_definition":
            start = node.parent.start_point.row  # decorators belong to what they decorate
        key = (start + 1, node.end_point.row + 1)
        label = node_text(name)
        if "receiver" in captures:
            label = f"{node_text(captures['receiver'][0])}.{label}"
        if "label" in captures:
            label = f"{label}({node_text(captures['label'][0])})"
        # Where two patterns name the same node, the earlier (more specific) one wins.
        if key not in found or pattern < found[key][0]:
            found[key] = (pattern, kinds[pattern], label)
    source.symbols = _nest({k: (kind, label) for k, (_, kind, label) in found.items()}, language)
    source._innermost = _innermost_index(source.symbols, len(lines))
    return source


def _nest(found: dict[tuple[int, int], tuple[str, str]], language: str) -> list[Symbol]:
    """Order symbols by position, qualify names by their container, and mark methods."""
    ordered = sorted(found.items(), key=lambda item: (item[0][0], -item[0][1]))
    stack: list[Symbol] = []
    result: list[Symbol] = []
    for (start, end), (kind, name) in ordered:
        while stack and not (stack[-1].start <= start and end <= stack[-1].end):
            stack.pop()
        parent = stack[-1] if stack else None
        if parent is not None:
            if kind == "function" and parent.kind in _CONTAINERS:
                kind = "method"
            name = f"{parent.name}.{name}"
        symbol = Symbol(name=name, kind=kind, start=start, end=end, depth=len(stack))
        result.append(symbol)
        stack.append(symbol)
    return result


def _innermost_index(symbols: list[Symbol], line_count: int) -> list[int]:
    """For each line, the index of the innermost enclosing symbol (-1 for none).

    Symbols are sorted by start with containers first, so painting them in order leaves
    each line with the deepest symbol that covers it.
    """
    owner = [-1] * line_count
    for index, symbol in enumerate(symbols):
        lo, hi = symbol.start - 1, min(symbol.end, line_count)
        owner[lo:hi] = [index] * (hi - lo)
    return owner


# --- chunking --------------------------------------------------------------------------------

# Code tokenises at roughly 3.5 characters a token; the estimate errs high, which is the
# safe side for a context budget. Each numbered line also costs its number and separator.
CHARS_PER_TOKEN = 3.5
_LINE_OVERHEAD = 2


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def _line_tokens(line: str) -> int:
    return int(len(line) / CHARS_PER_TOKEN) + _LINE_OVERHEAD


class LineTooLongError(ValueError):
    """A single line is larger than the whole chunk budget (minified code)."""

    def __init__(self, line: int, chars: int, budget: int) -> None:
        super().__init__(
            f"line {line} is {chars:,} characters long, more than one request can hold ({budget:,} tokens)"
        )
        self.line, self.chars, self.budget = line, chars, budget


def split_into_chunks(source: SourceFile, budget_tokens: int) -> list[Chunk]:
    """Split the file into chunks of at most `budget_tokens`, cutting between symbols.

    Top-level symbols are packed whole while they fit (with the comments and blank lines
    before them); one too large on its own is split between its children, and a symbol
    with no children that still does not fit is cut at the blank line nearest the limit.
    """
    costs = [_line_tokens(line) for line in source.lines]
    for number, cost in enumerate(costs, start=1):
        if cost > budget_tokens:
            raise LineTooLongError(number, len(source.lines[number - 1]), budget_tokens)
    total = sum(costs)
    if total <= budget_tokens:
        return [Chunk(0, 1, len(costs), total)] if costs else []
    prefix = [0]
    for cost in costs:
        prefix.append(prefix[-1] + cost)

    def cost_of(a: int, b: int) -> int:
        return prefix[b] - prefix[a - 1]

    boundaries = _cut_points(source.symbols, 1, len(costs), depth=0)
    ranges: list[tuple[int, int]] = []
    start = 1
    for piece_start, piece_end in _pieces(boundaries, 1, len(costs)):
        if cost_of(start, piece_end) <= budget_tokens:
            continue
        if piece_start > start:  # close the chunk before this piece
            ranges.append((start, piece_start - 1))
            start = piece_start
        if cost_of(start, piece_end) > budget_tokens:  # the piece alone is too big
            inner = _split_piece(source, start, piece_end, budget_tokens, cost_of)
            ranges.extend(inner[:-1])
            start = inner[-1][0]
    ranges.append((start, len(costs)))
    return [Chunk(i, a, b, cost_of(a, b)) for i, (a, b) in enumerate(ranges)]


def _cut_points(symbols: list[Symbol], lo: int, hi: int, depth: int) -> list[int]:
    """Line numbers where a chunk may start: before each symbol at `depth` inside lo..hi.

    The cut sits right after the previous sibling ends, so the comments, blank lines and
    decorators in between travel with the symbol they introduce.
    """
    cuts: list[int] = []
    previous_end: int | None = None
    for symbol in sorted((s for s in symbols if s.depth == depth and lo <= s.start <= hi), key=lambda s: s.start):
        cut = symbol.start if previous_end is None else min(symbol.start, previous_end + 1)
        if cut > lo and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
        previous_end = symbol.end
    return cuts


def _pieces(cuts: list[int], lo: int, hi: int) -> list[tuple[int, int]]:
    """lo..hi cut before each point; the lines before a symbol travel with it."""
    starts = [lo] + [c for c in cuts if lo < c <= hi]
    return [(a, (starts[i + 1] - 1) if i + 1 < len(starts) else hi) for i, a in enumerate(starts)]


def _split_piece(source: SourceFile, lo: int, hi: int, budget: int, cost_of: Any) -> list[tuple[int, int]]:
    """Split lo..hi (too big for one chunk) at inner symbols, else at blank lines, else anywhere."""
    inner = [s for s in source.symbols if lo < s.start <= hi and s.end <= hi]
    if inner:
        min_depth = min(s.depth for s in inner)
        cuts = _cut_points(inner, lo, hi, min_depth)
    else:
        cuts = []
    if not cuts:  # no structure left: every blank line is a cut point, else every line
        cuts = [n + 1 for n in range(lo, hi) if not source.lines[n - 1].strip()] or list(range(lo + 1, hi + 1))
    ranges: list[tuple[int, int]] = []
    start = lo
    for piece_start, piece_end in _pieces(cuts, lo, hi):
        if cost_of(start, piece_end) <= budget:
            continue
        if piece_start > start:
            ranges.append((start, piece_start - 1))
            start = piece_start
        if cost_of(start, piece_end) > budget:
            sub = _split_piece(source, start, piece_end, budget, cost_of) if piece_end > start else [(start, start)]
            ranges.extend(sub[:-1])
            start = sub[-1][0]
    ranges.append((start, hi))
    return ranges
