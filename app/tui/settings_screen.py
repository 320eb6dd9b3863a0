"""The settings screen: default provider, compare pair, judges, an endpoint, timeouts,
retries and hedging, written to the TOML config through the same code as `driftcheck
config set` (so checked by the same model, with the file's comments kept). Keys are shown only as present or absent, with the variable
to set; they are never read into a field or written anywhere."""

from __future__ import annotations

import os
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

# (setting, label, placeholder)
FIELDS = (
    ("default", "Default provider", "provider:model, e.g. anthropic:claude-haiku-4-5"),
    ("compare.0", "Compare: A", "provider:model"),
    ("compare.1", "Compare: B", "provider:model"),
    ("judges", "Judges", "SPEC, SPEC"),
    ("resilience.connect_timeout_s", "Connect timeout (s)", "10"),
    ("resilience.first_token_timeout_s", "First-token timeout (s)", "60"),
    ("resilience.timeout_s", "Silence timeout (s)", "60"),
    ("resilience.retries", "Retries", "2"),
    ("resilience.fallback", "Fallback chain", "SPEC, SPEC"),
    ("resilience.hedge_after", "Hedge after", "p95, 2.5s or off"),
    ("resilience.hedge_budget", "Hedge budget (share)", "0.05"),
    ("endpoint.name", "Endpoint name", "e.g. ollama (used as ollama:MODEL)"),
    ("endpoint.base_url", "Endpoint URL", "http://localhost:11434/v1"),
    ("endpoint.api_key_env", "Endpoint key variable", "e.g. OLLAMA_API_KEY (empty: no key)"),
    ("endpoint.models", "Endpoint models", "model, model"),
)
_NUMBERS = {
    "resilience.connect_timeout_s",
    "resilience.first_token_timeout_s",
    "resilience.timeout_s",
    "resilience.retries",
    "resilience.hedge_budget",
}


def current_values(path: Any) -> dict[str, str]:
    """The fields' values from the file as it is (raw TOML, so unknown settings survive)."""
    import tomllib

    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    res = data.get("resilience", {})
    compare = data.get("compare", [])
    values = {
        "default": data.get("default", ""),
        "compare.0": compare[0] if compare else "",
        "compare.1": compare[1] if len(compare) > 1 else "",
        "judges": ", ".join(data.get("judges", [])),
    }
    for key in ("connect_timeout_s", "first_token_timeout_s", "timeout_s", "retries", "hedge_after", "hedge_budget"):
        values[f"resilience.{key}"] = "" if key not in res else str(res[key])
    values["resilience.fallback"] = ", ".join(res.get("fallback", []))
    endpoints = data.get("endpoints", {})
    if endpoints:
        name, entry = next(iter(endpoints.items()))
        values.update(
            {
                "endpoint.name": name,
                "endpoint.base_url": entry.get("base_url", ""),
                "endpoint.api_key_env": entry.get("api_key_env", ""),
                "endpoint.models": ", ".join(entry.get("models", [])),
            }
        )
    return {k: str(v) for k, v in values.items()}


def changes_from(values: dict[str, str]) -> dict[str, Any]:
    """Field values to `update_config` changes (empty removes the setting)."""
    from app.errors import ConfigError

    def number(key: str, text: str) -> Any:
        try:
            return int(text) if key == "resilience.retries" else float(text)
        except ValueError:
            raise ConfigError(f"{key}: {text!r} is not a number") from None

    def spec_list(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]

    pair = [values["compare.0"].strip(), values["compare.1"].strip()]
    if bool(pair[0]) != bool(pair[1]):
        raise ConfigError("compare needs both A and B, or neither")
    changes: dict[str, Any] = {
        "default": values["default"].strip() or None,
        "compare": pair if pair[0] else None,
        "judges": spec_list(values["judges"]) or None,
        "resilience.fallback": spec_list(values["resilience.fallback"]) or None,
        "resilience.hedge_after": values["resilience.hedge_after"].strip() or None,
    }
    for key in _NUMBERS:
        text = values[key].strip()
        changes[key] = number(key, text) if text else None
    name = values["endpoint.name"].strip().lower()
    if name:
        changes[f"endpoints.{name}.base_url"] = values["endpoint.base_url"].strip() or None
        changes[f"endpoints.{name}.api_key_env"] = values["endpoint.api_key_env"].strip() or None
        changes[f"endpoints.{name}.models"] = spec_list(values["endpoint.models"]) or None
    return changes


def key_lines(endpoint_env: str | None = None) -> list[str]:
    from providers.spec import KINDS

    names = [kind.key_env for kind in KINDS.values()] + ([endpoint_env] if endpoint_env else [])
    return [
        f"{escape(name)}: "
        + (
            "[green]set[/]"
            if os.environ.get(name, "").strip()
            else f"[red]not set[/] — export {escape(name)}=... before starting driftcheck"
        )
        for name in names
    ]


class SettingsScreen(Screen[None]):
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="settings.save")]

    def compose(self) -> ComposeResult:
        from app.locations import config_path

        yield Header()
        with VerticalScroll(id="settings"):
            yield Static(f"Config file: {escape(str(config_path()))} (private to you, 0600)", id="settings-path")
            yield Static("", id="settings-keys")
            with Grid(id="settings-grid"):
                for key, label, placeholder in FIELDS:
                    yield Label(label)
                    yield Input(placeholder=placeholder, id=f"set-{key.replace('.', '-')}")
            yield Button("Save (ctrl+s)", id="save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        from app.locations import config_path

        self.title = "settings"
        try:
            values = current_values(config_path())
        except Exception as exc:
            self.notify(f"The config could not be read: {exc}", severity="error")
            values = {}
        for key, _, _ in FIELDS:
            self.query_one(f"#set-{key.replace('.', '-')}", Input).value = values.get(key, "")
        self.query_one("#settings-keys", Static).update(
            "[b]API keys[/] (from the environment only; never shown or stored)\n"
            + "\n".join(key_lines(values.get("endpoint.api_key_env") or None))
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()

    def action_save(self) -> None:
        from app.config.writer import update_config
        from app.errors import ConfigError
        from app.locations import config_path

        values = {key: self.query_one(f"#set-{key.replace('.', '-')}", Input).value for key, _, _ in FIELDS}
        try:
            update_config(changes_from(values))
        except ConfigError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        self.notify(f"Saved to {config_path()}", title="Settings")
