"""SARIF for a change: every reviewed file an artifact, valid against the 2.1.0 schema, and
a finding's partial fingerprint unchanged when the code it cites moves, or when another
provider words it differently."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.conftest import run_in_process
from tests.gitrepo import Repo
from tests.test_diff_review import CALC, UTIL_JS, finding, reply

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
MINI = "openai:gpt-5.4-mini"
HAIKU = "anthropic:claude-haiku-4-5"


def _sarif(cli_env, repo: Repo, spec: str, *args: str) -> dict:
    result = run_in_process(("review", *args, "-p", spec, "--format", "sarif"), env=cli_env, cwd=repo.path)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _fingerprints(sarif: dict) -> list[str]:
    return [r["partialFingerprints"]["driftcheckFinding/v2"] for r in sarif["runs"][0]["results"]]


def test_sarif_of_a_change_lists_every_artifact_and_validates(fake, cli_env, tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("calc.py", CALC)
    repo.write("web/util.js", UTIL_JS)
    repo.commit("base")
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    repo.write("web/util.js", UTIL_JS.replace("hello ", "hi "))
    model = MINI.split(":")[1]
    fake.reply_when(model, ["File: calc.py"], reply(finding(6, "return a / b  # may be zero")))
    fake.reply_when(model, ["File: web/util.js"], reply(finding(2, 'return "hi " + name;', severity="low")))
    sarif = _sarif(cli_env, repo, MINI, "--diff")
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run = sarif["runs"][0]
    assert [a["location"]["uri"] for a in run["artifacts"]] == ["calc.py", "web/util.js"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.path.resolve().as_uri() + "/"
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in run["results"]}
    assert by_uri["calc.py"]["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == 0
    assert by_uri["web/util.js"]["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == 1
    assert by_uri["calc.py"]["locations"][0]["logicalLocations"][0]["name"] == "divide"


def test_a_fingerprint_survives_code_moving_20_lines_and_another_providers_words(fake, cli_env, tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("calc.py", CALC)
    repo.commit("base")
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    fake.script(reply(finding(6, "return a / b  # may be zero")))
    first = _fingerprints(_sarif(cli_env, repo, MINI, "--diff"))

    # Twenty lines of new code above it: the finding is now at line 26.
    moved = "import math\n" + "".join(f"K{n} = {n}\n" for n in range(19)) + CALC
    repo.write("calc.py", moved.replace("return a / b", "return a / b  # may be zero"))
    # Another provider, other words, the line cited one off (the evidence check moves it back).
    other = finding(27, "return a / b  # may be zero", title="Possible ZeroDivisionError", severity="medium")
    fake.script(reply(other))
    second = _sarif(cli_env, repo, HAIKU, "--diff")
    [result] = second["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 26
    assert _fingerprints(second) == first and len(first) == 1


def test_a_different_problem_gets_a_different_fingerprint(fake, cli_env, tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.write("calc.py", CALC)
    repo.commit("base")
    repo.write("calc.py", CALC.replace("return a / b", "return a / b  # may be zero"))
    fake.script(reply(finding(6, "return a / b  # may be zero"), finding(2, "return a + b")))
    prints = _fingerprints(_sarif(cli_env, repo, MINI, "--diff"))
    assert len(set(prints)) == 2
