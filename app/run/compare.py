"""The two sides of a compare: which providers, and a stored run as side A (--baseline)."""

from __future__ import annotations

from typing import Any

from app.config.settings import Config
from app.errors import StoreError, UsageError
from app.history.store import Store
from providers.spec import usable_specs


def pick_sides(spec_a: str | None, spec_b: str | None, config: Config) -> tuple[str, str]:
    """-a and -b as given; else the config's compare pair; else the first usable providers."""
    pair = list(config.compare) if len(config.compare) == 2 else []
    usable = usable_specs(endpoints=config.endpoints, allow_local=config.local.use_when_unconfigured)
    a = spec_a or (pair[0] if pair else next((s for s in usable if s != spec_b), None))
    b = spec_b or (pair[1] if pair else next((s for s in usable if s != a), None))
    if a is None or b is None:
        found = ", ".join(usable) or "none"
        raise UsageError(
            f"compare needs two providers and found {found} usable: pass -a SPEC -b SPEC, put "
            f'`compare = ["SPEC_A", "SPEC_B"]` in the config, or set a second key. To see one '
            f"model's own noise, compare it with itself: -a SPEC -b SPEC --repeat 3"
        )
    return a, b


def read_stored_run(ref: str, option: str) -> dict[str, Any]:
    """The run `ref` (an id, or an id prefix, before any ":side") names in history;
    UsageError naming `option` when there is no such run or several."""
    run_id = ref.partition(":")[0]
    opened = Store.open(for_reading=True)
    try:
        run = opened.store.get_run(run_id)
    except StoreError as exc:  # an id prefix of several runs
        raise UsageError(f"{option} {ref}: {exc}") from None
    finally:
        opened.store.close()
    if run is None:
        raise UsageError(f"{option} {ref}: no run {run_id!r} in history (see `driftcheck history list`)")
    return run


def load_baseline(ref: str, task: str, sha256: str, mode: str | None) -> tuple[str, dict[str, Any]]:
    """(run id, the stored side's public JSON) for --baseline, checked against this input."""
    side = ref.partition(":")[2]
    run = read_stored_run(ref, "--baseline")
    record = run["result"]
    if run["task"] == "compare" and record:
        if side not in ("a", "b"):
            raise UsageError(
                f"--baseline {ref}: run {run['id']} is a compare; say which side, {run['id']}:a or {run['id']}:b"
            )
        record = record[side]
    elif side:
        raise UsageError(f"--baseline {ref}: run {run['id']} is a {run['task']}, not a compare; give its id alone")
    if not record or record.get("task") != task:
        kind = record.get("task") if record else run["task"]
        raise UsageError(f"--baseline {ref}: run {run['id']} is a {kind}; this compare is a {task}")
    if record.get("status") != "ok" or record.get("result") is None:
        raise UsageError(
            f"--baseline {ref}: run {run['id']} did not finish ({record.get('status')}); "
            f"a baseline has to be a complete answer"
        )
    if run["input_sha256"] != sha256:
        raise UsageError(
            f"--baseline {ref}: run {run['id']} was made on different input "
            f"({run['input_ref']}, sha256 {str(run['input_sha256'])[:12]}…); this input is "
            f"{sha256[:12]}…. A baseline must be the same file or incident, byte for byte"
        )
    if task == "triage" and mode is not None and record.get("mode") != mode:
        raise UsageError(f"--baseline {ref}: run {run['id']} is a {record.get('mode')} triage, not {mode}")
    return run["id"], record
