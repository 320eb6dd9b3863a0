"""Which provider: one SPEC per side, typed with completion from the providers usable
right now (a key in the environment, an endpoint in the config, the bundled model) and
listed under the fields. Each SPEC is parsed before the dialog closes: a typo or a list
where one SPEC belongs is a message in the dialog, not a failed run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.tui.widgets import escape
from providers.spec import Endpoint


@dataclass(frozen=True)
class Choice:
    spec: str
    why: str  # "ANTHROPIC_API_KEY set", "endpoint ollama", "bundled, offline"


def usable_choices(endpoints: Mapping[str, Endpoint], env: Mapping[str, str] | None = None) -> list[Choice]:
    """Every model of every provider usable without more setting up, as `driftcheck
    providers` reports them (no endpoint is probed: that would cost a second)."""
    from app.run.provider_status import gather

    choices = []
    for row in gather(endpoints, check=False, env=env):
        if row.kind == "local":
            if row.reachable:
                choices += [Choice(f"local:{m.model}", "bundled model, offline, demo-grade") for m in row.models]
            continue
        if row.key_env is not None and not row.key_present:
            continue
        why = f"{row.key_env} set" if row.key_env else f"endpoint {row.base_url}"
        choices += [Choice(f"{row.name}:{m.model}", why) for m in row.models]
    return choices


def spec_problem(text: str, endpoints: Mapping[str, Endpoint]) -> str | None:
    """Why `text` is not one SPEC (one line), or None."""
    from providers.errors import ProviderError
    from providers.spec import parse_spec

    if "," in text or len(text.split()) > 1:
        return f"{text!r} is more than one SPEC; give one provider:model here"
    try:
        parse_spec(text, endpoints)
    except ProviderError as exc:
        return exc.message + (f". {exc.hint}" if exc.hint else "")
    return None


def first_problem(result: ValidationResult | None) -> str | None:
    """An Input's first validation message, or None when its value is valid."""
    return None if result is None or result.is_valid else result.failure_descriptions[0]


def first_invalid(fields: Iterable[tuple[str, Input]]) -> str | None:
    """The first (label, field) whose value fails its validators, focused, said as
    "label: problem"; None when every one is valid (the triage form, the settings)."""
    for label, field in fields:
        problem = first_problem(field.validate(field.value))
        if problem is not None:
            field.focus()
            return f"{label}: {problem}"
    return None


class SpecValidator(Validator):
    """An Input's check of a SPEC as it is typed; `optional` lets an empty field through.
    `endpoints` is asked for the config's endpoints at the first check, not when the form
    is built (reading the config would cost the form's first frame ~80 ms)."""

    def __init__(
        self, endpoints: Callable[[], Mapping[str, Endpoint]], *, optional: bool = False, many: bool = False
    ) -> None:
        super().__init__()
        self.endpoints = endpoints
        self.optional = optional
        self.many = many  # a comma-separated list (judges)

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.success() if self.optional else self.failure("a SPEC is needed: provider:model")
        parts = [p.strip() for p in text.split(",")] if self.many else [text]
        for part in parts:
            problem = spec_problem(part, self.endpoints()) if part else "an empty SPEC between commas"
            if problem is not None:
                return self.failure(problem)
        return self.success()


class ProviderPicker(ModalScreen[list[str] | None]):
    """One Input per side (label, current SPEC); Enter on the last one (or on a listed
    provider) closes with the SPECs once each parses."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="provider.close")]

    DEFAULT_CSS = """
    ProviderPicker #provider-choices { height: auto; max-height: 12; border: none; }
    ProviderPicker #provider-error { color: $error; height: auto; }
    """

    def __init__(self, question: str, fields: list[tuple[str, str]], endpoints: Mapping[str, Endpoint]) -> None:
        super().__init__()
        self.question = question
        self.fields = fields
        self.endpoints = endpoints
        self.choices: list[Choice] = []

    def compose(self) -> ComposeResult:
        self.choices = usable_choices(self.endpoints)
        specs = [c.spec for c in self.choices]
        with Vertical(classes="dialog"):
            yield Label(self.question)
            for n, (label, value) in enumerate(self.fields):
                field = Input(
                    value,
                    placeholder="provider:model",
                    id=f"spec-{n}",
                    suggester=SuggestFromList(specs, case_sensitive=False),
                    validators=[SpecValidator(lambda: self.endpoints)],
                )
                field.border_title = label
                yield field
            yield Static("", id="provider-error")
            yield Label("[b]Usable now[/] [dim](Enter picks one for the focused field)[/]")
            yield OptionList(
                *[Option(f"{escape(c.spec)}  [dim]{escape(c.why)}[/]", id=c.spec) for c in self.choices],
                id="provider-choices",
            )
            yield Label("[dim]Enter runs what is shown · Tab moves · Escape closes[/]")

    def on_mount(self) -> None:
        if not self.choices:
            self.query_one("#provider-error", Static).update(
                "No provider is usable yet: set ANTHROPIC_API_KEY or OPENAI_API_KEY, add an endpoint in "
                "Settings, or install the bundled model."
            )

    def inputs(self) -> list[Input]:
        return list(self.query(Input))

    @on(OptionList.OptionSelected, "#provider-choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        target = getattr(self, "last_input", None) or self.inputs()[0]
        target.value = event.option.id or ""
        target.focus()
        self.submit()

    def on_descendant_focus(self, event: object) -> None:
        if isinstance(self.focused, Input):
            self.last_input = self.focused

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        fields = self.inputs()
        if event.input is not fields[-1]:  # the next side first
            fields[fields.index(event.input) + 1].focus()
            return
        self.submit()

    def completed(self, text: str) -> str:
        """What Enter runs: the completion on show (the first usable SPEC the text starts),
        else the text as typed."""
        specs = [c.spec for c in self.choices]
        if not text or text in specs:
            return text
        return next((spec for spec in specs if spec.lower().startswith(text.lower())), text)

    def submit(self) -> None:
        specs = []
        for (label, _), field in zip(self.fields, self.inputs(), strict=True):
            text = self.completed(field.value.strip())
            problem = spec_problem(text, self.endpoints) if text else "a SPEC is needed: provider:model"
            if problem is not None:
                self.query_one("#provider-error", Static).update(f"{escape(label)}: {escape(problem)}")
                field.focus()
                return
            specs.append(text)
        self.dismiss(specs)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
