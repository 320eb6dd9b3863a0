"""A finding's fingerprint: what it is about, not where it is or who said it.

Built from the category, the enclosing symbol and the code on the finding's first line as
the file really has it (whitespace collapsed), so the same problem keeps one fingerprint
when code above it moves it down 20 lines, and when another provider reports it with
other words, another title or a slightly different line range. When the cited lines are
not in the file, the model's own quote stands in for the code.

SARIF's `partialFingerprints` and `review --baseline` both use it.
"""

from __future__ import annotations

import hashlib
import re

from app.review.model import Finding
from app.source.model import SourceFile

FINGERPRINT_KEY = "driftcheckFinding/v2"
_SPACE = re.compile(r"\s+")


def normalised_code(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def finding_fingerprint(finding: Finding, source: SourceFile | None) -> str:
    if source is not None and finding.lines_valid and 1 <= finding.line_start <= source.line_count:
        code = source.line(finding.line_start)
    else:
        code = finding.evidence
    basis = "|".join([finding.category, finding.symbol or "", normalised_code(code)])
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
