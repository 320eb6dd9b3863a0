"""The errors the domain raises, the exit codes, and the one mapping between them.

Domain code never picks an exit code and never prints: it raises one of these (or lets a
provider's `ProviderError` through), and the command line turns it into one line on
stderr and `exit_code_for(exc)`. Exit codes (docs/architecture.md): 0 done, 1 findings at
or above --fail-on, 2 bad usage or input, 3 provider failure after retries and fallback,
130 cancelled.

Light on purpose: the command line imports this module on the `--help` path, so the
provider layer is imported only inside the functions that need it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    PROVIDER = 3
    CANCELLED = 130


class DriftcheckError(Exception):
    """Something the user can fix; the message is meant for them as it is (one line)."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


class UsageError(DriftcheckError):
    """Bad usage or input: options that do not fit together, a value out of range."""


class InputError(DriftcheckError):
    """An input (a file, standard input, an answer key, a reference) cannot be used."""


class ConfigError(DriftcheckError):
    """The config file exists but cannot be used; the message names the file and the place."""


class StoreError(DriftcheckError):
    """History cannot be opened or does not hold what was asked for."""


def exit_code_for(exc: BaseException) -> ExitCode:
    """THE exit code for an error: a DriftcheckError's own; a provider that cannot be used
    as configured (a bad SPEC, no key) is bad usage; any other provider failure is 3."""
    if isinstance(exc, DriftcheckError):
        return exc.exit_code
    from providers.errors import ConfigurationError

    return ExitCode.USAGE if isinstance(exc, ConfigurationError) else ExitCode.PROVIDER


def error_line(exc: BaseException) -> str:
    """The one line to show for an error: a provider error's (what happened and what to do,
    keys scrubbed), else the error's own message."""
    one_line = getattr(exc, "one_line", None)
    return one_line() if callable(one_line) else str(exc)


def exit_code_for_kind(kind: str | None) -> ExitCode:
    """The same rule for a failure as the public JSON names it (`error.kind`)."""
    from providers.errors import is_configuration_kind

    return ExitCode.USAGE if is_configuration_kind(kind) else ExitCode.PROVIDER
