"""The provider batches that `--batch` evals, compares and reviews kept in their runs' parts, for
`driftcheck batches`."""

from __future__ import annotations

from typing import Any

from app.calls.batching import BATCH_PART


def batches_in_history(*, include_collected: bool = False) -> list[dict[str, Any]]:
    """The batches evals submitted, newest last: open ones (submitted, not yet collected),
    or all of them. Raises StoreError when history cannot be read."""
    from app.history.store import Store

    store = Store.open(for_reading=True).store
    try:
        rows = store.parts_starting(BATCH_PART)
    finally:
        store.close()
    return [
        {
            "batch_id": data.get("id"),
            "provider": data.get("provider"),
            "run_id": run_id,
            "state": data.get("state"),
            "items": len(data.get("items") or []),
            "endpoint": data.get("endpoint"),
            "stored_at": stored_at,
            # Batches stored before a batch held several models name only their provider.
            "models": data.get("models") or [m for m in [data.get("provider")] if m],
        }
        for run_id, _key, data, stored_at in rows
        if isinstance(data, dict) and (include_collected or data.get("state") == "submitted")
    ]
