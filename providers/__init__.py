"""driftcheck's provider layer: one request type, one event stream, one error hierarchy.

Knows nothing of reviews, triage or Textual, and imports no SDK until a call is made.
"""

from .base import BaseProvider, ProviderSettings, RetryPolicy, Timeouts
from .checks import raise_for_checks
from .errors import ProviderError
from .protocol import Provider
from .spec import KINDS, Endpoint, ProviderSpec, build_provider, default_spec, parse_spec
from .types import (
    Check,
    Completed,
    FinishReasonSet,
    Message,
    ProviderEvent,
    Request,
    Response,
    RetryScheduled,
    StreamEvent,
    StreamStarted,
    TextDelta,
    Usage,
    UsageUpdate,
)

__all__ = [
    "KINDS",
    "BaseProvider",
    "Check",
    "Completed",
    "Endpoint",
    "FinishReasonSet",
    "Message",
    "Provider",
    "ProviderError",
    "ProviderEvent",
    "ProviderSettings",
    "ProviderSpec",
    "Request",
    "Response",
    "RetryPolicy",
    "RetryScheduled",
    "StreamEvent",
    "StreamStarted",
    "TextDelta",
    "Timeouts",
    "Usage",
    "UsageUpdate",
    "build_provider",
    "default_spec",
    "parse_spec",
    "raise_for_checks",
]
