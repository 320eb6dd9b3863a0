"""The settings screen: default provider, compare pair, judges, an endpoint, timeouts,
retries and hedging, written to the TOML config through the same code as `driftcheck
config set` (so checked by the same model, with the file's comments kept). Keys are shown only as present or absent, with the variable
to set; they are never read into a field or written anywhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from app.tui.provider_picker import SpecValidator, first_invalid, first_problem

if TYPE_CHECKING:
    from providers.spec import Endpoint


def _defaults() -> dict[str, str]:
    """What each resilience setting is when left empty, from the providers' own defaults,
    so a placeholder never states a default that is not the real one."""
    from app.config.settings import Resilience
    from providers.base import RetryPolicy, Timeouts

    timeouts, retry, resilience = Timeouts(), RetryPolicy(), Resilience()
    return {
        "resilience.connect_timeout_s": f"{timeouts.connect_s:g}",
        "resilience.first_token_timeout_s": f"{timeouts.first_token_s:g}",
        "resilience.timeout_s": f"{timeouts.stall_s:g}",
        "resilience.retries": str(retry.retries),
        "resilience.hedge_budget": f"{resilience.hedge_budget:g}",
    }


def fields() -> tuple[tuple[str, str, str], ...]:
    """(setting, label, placeholder) for every field on the screen."""
    defaults = _defaults()
    return (
        ("default", "Default provider", "provider:model, e.g. anthropic:claude-haiku-4-5"),
        ("compare.0", "Compare: A", "provider:model"),
        ("compare.1", "Compare: B", "provider:model"),
        ("judges", "Judges", "SPEC, SPEC"),
        ("resilience.connect_timeout_s", "Connect timeout (s)", defaults["resilience.connect_timeout_s"]),
        ("resilience.first_token_timeout_s", "First-token timeout (s)", defaults["resilience.first_token_timeout_s"]),
        ("resilience.timeout_s", "Silence timeout (s)", defaults["resilience.timeout_s"]),
        ("resilience.retries", "Retries", defaults["resilience.retries"]),
        ("resilience.fallback", "Fallback chain", "SPEC, SPEC"),
        ("resilience.hedge_after", "Hedge after", "p95, 2.5s or off"),
        ("resilience.hedge_budget", "Hedge budget (share)", defaults["resilience.hedge_budget"]),
        ("endpoint.name", "Endpoint name", "e.g. ollama (used as ollama:MODEL)"),
        ("endpoint.base_url", "Endpoint URL", "http://localhost:11434/v1"),
        ("endpoint.api_key_env", "Endpoint key variable", "e.g. OLLAMA_API_KEY (empty: no key)"),
        ("endpoint.models", "Endpoint models", "model, model"),
    )


FIELDS = fields()
# The fields that hold SPECs (True: a comma-separated list), checked as they are typed by
# the triage form's validator, with its message under the field.
SPEC_FIELDS = {"default": False, "compare.0": False, "compare.1": False, "judges": True, "resilience.fallback": True}
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
    if endpoints:  # the fields edit the first; `endpoint_lines` lists them all
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


def parsed_endpoints() -> Mapping[str, Endpoint]:
    """The config's endpoints as the run builder reads them (none when the config is bad:
    the status line says what is wrong with it)."""
    from app.config.load import load_config
    from app.errors import DriftcheckError

    try:
        return load_config().endpoints
    except DriftcheckError:
        return {}


def endpoints_in(path: Any) -> dict[str, dict[str, Any]]:
    """Every endpoint in the config file (raw TOML), by name."""
    import tomllib

    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(name): entry for name, entry in data.get("endpoints", {}).items() if isinstance(entry, dict)}


def endpoint_line(name: str, entry: dict[str, Any]) -> str:
    """One endpoint as a markup line: name, URL, key variable, models."""
    models = ", ".join(str(m) for m in entry.get("models", [])) or "any model"
    key = entry.get("api_key_env") or "no key"
    return f"[b]{escape(name)}[/] {escape(str(entry.get('base_url', '')))} · key {escape(str(key))} · {escape(models)}"


def key_lines(endpoint_envs: list[str] | None = None) -> list[str]:
    from providers.spec import KINDS

    names = [kind.key_env for kind in KINDS.values()]
    names += [env for env in endpoint_envs or [] if env not in names]
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
    BINDINGS = [
        # The app's escape (asks first when a field is not saved), listed first for the footer.
        Binding(
            "escape", "app.leave", "Back", tooltip="Back (asks first when a change is not saved)", id="settings.back"
        ),
        Binding("ctrl+s", "save", "Save", tooltip="Save to the config file", id="settings.save"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[str, str] = {}  # the fields as the file has them: what "unsaved" is against
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.config_endpoints: Mapping[str, Endpoint] = {}  # as parsed, for checking SPECs

    def compose(self) -> ComposeResult:
        from app.locations import config_path

        yield Header()
        with VerticalScroll(id="settings"):
            yield Static(f"Config file: {escape(str(config_path()))} (private to you, 0600)", id="settings-path")
            yield Static("", id="settings-status")
            yield Static("", id="settings-keys")
            with Grid(id="settings-grid"):
                for key, label, placeholder in FIELDS:
                    field_id = f"set-{key.replace('.', '-')}"
                    yield Label(label)
                    # compact: one row a field, so the whole form fits 80×24 with little scrolling
                    many = SPEC_FIELDS.get(key)
                    checks = [] if many is None else [SpecValidator(self.spec_endpoints, optional=True, many=many)]
                    yield Input(placeholder=placeholder, id=field_id, compact=True, validators=checks)
                    if many is not None:  # a row under the field, shown while it holds a problem
                        yield Label("", id=f"{field_id}-gap", classes="hidden")
                        yield Static("", id=f"{field_id}-problem", classes="field-problem hidden")
            yield Static("", id="settings-endpoints")
            yield Button("Save (ctrl+s)", id="save", variant="primary")
        yield Footer(compact=True)  # one more key fits an 80-column footer

    def on_mount(self) -> None:
        self.title = "settings"
        self.load()

    def load(self) -> None:
        """The fields, the key lines and the endpoint list as the file has them."""
        from app.locations import config_path

        path = config_path()
        try:
            values = current_values(path)
            endpoints = endpoints_in(path)
        except Exception as exc:  # a damaged file: say so, and show empty fields
            self.show_status(f"The config could not be read: {exc}", error=True)
            values, endpoints = {}, {}
        self.endpoints = endpoints
        self.config_endpoints = parsed_endpoints()
        for key, _, _ in FIELDS:
            self.query_one(f"#set-{key.replace('.', '-')}", Input).value = values.get(key, "")
        self.saved = self.values()
        envs = [str(entry["api_key_env"]) for entry in endpoints.values() if entry.get("api_key_env")]
        self.query_one("#settings-keys", Static).update(
            "[b]API keys[/] (from the environment only; never shown or stored)\n" + "\n".join(key_lines(envs))
        )
        self.query_one("#settings-endpoints", Static).update(
            (
                "[b]Endpoints in the config[/] (type one's name in Endpoint name to edit it, a new name to add one)\n"
                + "\n".join(endpoint_line(name, entry) for name, entry in endpoints.items())
            )
            if endpoints
            else "[dim]No endpoints in the config yet: fill in the endpoint fields above to add one.[/]"
        )

    def spec_endpoints(self) -> Mapping[str, Endpoint]:
        """The endpoints a SPEC may name: the config's, and the one being typed in the
        endpoint fields (so `NAME:model` is valid before the endpoint is saved)."""
        from providers.spec import Endpoint

        known = dict(self.config_endpoints)
        name = self.query_one("#set-endpoint-name", Input).value.strip().lower()
        url = self.query_one("#set-endpoint-base_url", Input).value.strip()
        if name and url:
            known.setdefault(name, Endpoint(name=name, base_url=url))
        return known

    @on(Input.Changed)
    def _checked(self, event: Input.Changed) -> None:
        """A SPEC field's problem, in the triage form's words, right under the field."""
        if event.validation_result is None or event.input.id is None:
            return
        problem = first_problem(event.validation_result)
        shown = self.query_one(f"#{event.input.id}-problem", Static)
        shown.update("" if problem is None else f"[red]↳ {escape(problem)}[/]")
        shown.set_class(problem is None, "hidden")
        self.query_one(f"#{event.input.id}-gap").set_class(problem is None, "hidden")

    def spec_problem(self) -> str | None:
        """The first SPEC field that does not hold valid SPECs, focused, as one line."""
        return first_invalid(
            (label, self.query_one(f"#set-{key.replace('.', '-')}", Input))
            for key, label, _ in FIELDS
            if key in SPEC_FIELDS
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        """Typing the name of a configured endpoint brings its settings into the fields."""
        entry = self.endpoints.get(event.value.strip().lower()) if event.input.id == "set-endpoint-name" else None
        if entry is not None:
            for field, value in (
                ("base_url", entry.get("base_url", "")),
                ("api_key_env", entry.get("api_key_env", "")),
                ("models", ", ".join(str(m) for m in entry.get("models", []))),
            ):
                self.query_one(f"#set-endpoint-{field}", Input).value = str(value)

    def values(self) -> dict[str, str]:
        return {key: self.query_one(f"#set-{key.replace('.', '-')}", Input).value for key, _, _ in FIELDS}

    def unsaved(self) -> bool:
        """True when a field differs from the file (the app asks before leaving)."""
        return self.is_mounted and self.values() != self.saved

    def show_status(self, text: str, *, error: bool = False) -> None:
        """A line under the path that stays, beside the toast that fades."""
        from app.tui.widgets import escape as escape_all

        self.query_one("#settings-status", Static).update(f"[red]{escape_all(text)}[/]" if error else escape_all(text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()

    def action_save(self) -> None:
        from app.config.writer import update_config
        from app.errors import ConfigError
        from app.locations import config_path

        values = self.values()
        problem = self.spec_problem()
        if problem is not None:
            self.notify(problem, title="Not saved", severity="error", timeout=10, markup=False)
            self.show_status(f"Not saved: {problem}", error=True)
            return
        try:
            update_config(changes_from(values))
        except ConfigError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=10, markup=False)
            self.show_status(f"Not saved: {exc}", error=True)
            return
        self.saved = values
        self.notify(f"Saved to {config_path()}", title="Settings", markup=False)
        self.show_status(f"Saved to {config_path()}.")
        self.load()  # the endpoint list and key lines as the file now has them
