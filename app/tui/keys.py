"""Every key a screen answers to, read from the BINDINGS of the app, the screen and the
widgets on it, so the help (f1) and the palette list the keys that exist and never go
stale. A binding's `tooltip` is its long description (the help's), its `description`
the short one the footer shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.screen import Screen

# Keys that are not bindings of ours but belong in the help: the palette, moving between
# lists, and Enter on a list, whose meaning each screen gives it.
GENERAL_KEYS = (
    ("ctrl+p", "the command palette: every action by name", "everywhere"),
    ("tab / shift+tab", "the next / previous list or field", "everywhere"),
    ("enter", "pick the highlighted item (a finding: its lines in the code)", "a list"),
)


@dataclass(frozen=True)
class Key:
    """One binding as the help and the palette show it."""

    keys: str  # as shown: "f1", "ctrl+s", "?"
    short: str  # the footer's description
    long: str  # the help's description
    where: str  # "everywhere", the screen's title, or the widget it belongs to
    action: str
    target: DOMNode  # where the action runs


def own_bindings(node: DOMNode) -> Iterator[Binding]:
    """The bindings declared by driftcheck's classes of `node` (Textual's own widgets
    bring dozens of editing keys that need no help of ours)."""
    for cls in reversed(type(node).__mro__):
        if cls.__module__.startswith("app.") and "BINDINGS" in cls.__dict__:
            for binding in cls.__dict__["BINDINGS"]:
                if isinstance(binding, Binding):
                    yield binding


def _where(node: DOMNode, screen: Screen[Any]) -> str:
    from textual.app import App

    if isinstance(node, App):
        return "everywhere"
    if node is screen:
        return "this screen"
    # A widget of ours says where its keys work ("a finding or action").
    return str(getattr(type(node), "KEYS_WHERE", type(node).__name__))


def screen_keys(app: App[Any], screen: Screen[Any]) -> list[Key]:
    """Every binding of the app, of `screen` and of the widgets on it (one line per key and
    action; a key bound twice to one action is shown once), the screen's own first."""
    nodes: list[DOMNode] = [screen]
    seen_types: set[type] = {type(screen)}
    for widget in screen.query("*"):
        if type(widget) not in seen_types:
            seen_types.add(type(widget))
            nodes.append(widget)
    nodes.append(app)
    keys: dict[tuple[int, str, str], Key] = {}
    said: set[tuple[str, str]] = set()
    for node in nodes:
        for binding in own_bindings(node):
            shown = binding.key_display or app.get_key_display(binding)
            if (shown, binding.tooltip or binding.description) in said:
                continue  # the screen's "esc Back" is the app's, said once
            said.add((shown, binding.tooltip or binding.description))
            merged = (id(node), binding.action, binding.description)
            earlier = keys.get(merged)
            keys[merged] = Key(
                keys=shown if earlier is None else f"{earlier.keys} / {shown}",
                short=binding.description,
                long=binding.tooltip or binding.description,
                where=_where(node, screen),
                action=binding.action,
                target=node,
            )
    return list(keys.values())


def help_markdown(app: App[Any], screen: Screen[Any]) -> str:
    """The help for `screen`: its keys (from the bindings), then the general ones."""
    from app.render.markdown import cell

    title = screen.title or type(screen).__name__
    rows = [f"| `{key.keys}` | {cell(key.long)} | {cell(key.where)} |" for key in screen_keys(app, screen)]
    rows += [f"| `{keys}` | {cell(what)} | {where} |" for keys, what, where in GENERAL_KEYS]
    return "\n".join([f"## Keys on {cell(title)}", "", "| key | what | where |", "|---|---|---|", *rows, ""])


def palette_keys(app: App[Any], screen: Screen[Any]) -> Iterator[Key]:
    """The screen's and its widgets' keys that act now (the app's own are in the palette
    already), for the palette."""
    from textual.app import App

    for key in screen_keys(app, screen):
        if isinstance(key.target, App):
            continue
        if key.target.check_action(key.action, ()):
            yield key
