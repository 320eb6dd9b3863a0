"""A keyed change: a small git repository whose last commit plants known issues across
three files in two languages, with an answer key beside each changed file, so that
`driftcheck review --diff main...feature` reports recall and precision like the keyed
single-file samples.

    python3 -m tests.change_fixture /tmp/keyed-change    # then, inside it:
    driftcheck review --diff main...feature

It also writes the change as a unified diff, `keyed-change.patch`, at the repository's
top: an eval item (`driftcheck eval --set /tmp/keyed-change/keyed-change.patch`) that is
reviewed as `review --diff -` would review it, against the same keys.

The keys (FILE.key.toml) and the patch are left untracked: they are the test's, not the
change's. Their
line numbers are found by searching the new files for the planted code, so editing the
code below cannot leave a key pointing at the wrong line.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tests.gitrepo import Repo

BASE_ORDERS = '''\
"""Orders: lookups and totals."""

import sqlite3


def open_db(path):
    return sqlite3.connect(path)


def order_total(items):
    return sum(item["price"] * item["qty"] for item in items)
'''

CHANGED_ORDERS = '''\
"""Orders: lookups and totals."""

import sqlite3


def open_db(path):
    return sqlite3.connect(path)


def order_total(items):
    return sum(item["price"] * item["qty"] for item in items)


def find_orders(db, customer):
    query = f"SELECT * FROM orders WHERE customer = '{customer}'"
    return db.execute(query).fetchall()


def cancel_order(db, order_id):
    try:
        db.execute("DELETE FROM orders WHERE id = ?", (order_id,))
    except:
        pass
'''

BASE_EXPORT = '''\
"""Writing reports to disk."""


def header(columns):
    return ",".join(columns)
'''

CHANGED_EXPORT = '''\
"""Writing reports to disk."""


def header(columns):
    return ",".join(columns)


def write_report(path, rows):
    out = open(path, "w")
    out.write(header(rows[0].keys()) + "\\n")
    for row in rows:
        out.write(",".join(str(v) for v in row.values()) + "\\n")
'''

BASE_SESSION = """\
const express = require("express");

function requireUser(req, res, next) {
  if (!req.user) {
    return res.status(401).end();
  }
  next();
}

module.exports = { requireUser };
"""

CHANGED_SESSION = """\
const express = require("express");

function requireUser(req, res, next) {
  if (!req.user) {
    return res.status(401).end();
  }
  next();
}

function newSessionToken() {
  return Math.random().toString(36).slice(2);
}

function calculate(req, res) {
  const result = eval(req.query.expr);
  res.json({ result });
}

module.exports = { requireUser, newSessionToken, calculate };
"""

# (file, id, the planted code to find, category, severity, keywords)
ISSUES = [
    (
        "shop/orders.py",
        "sql-injection",
        'query = f"SELECT',
        "security",
        "critical",
        ["sql", "injection", "parameterised query"],
    ),
    ("shop/orders.py", "bare-except", "except:", "error-handling", "medium", ["bare", "except", "swallow"]),
    (
        "shop/export.py",
        "file-not-closed",
        'out = open(path, "w")',
        "resource-management",
        "medium",
        ["file", "close", "with"],
    ),
    ("web/session.js", "weak-token", "Math.random()", "security", "high", ["random", "token", "crypto"]),
    ("web/session.js", "eval-input", "eval(req.query.expr)", "security", "critical", ["eval", "injection", "input"]),
]


@dataclass
class KeyedChange:
    repo: Repo
    range: str  # the change under review
    patch: Path  # the same change as a unified diff (an eval item)
    issues: list[dict]  # each planted issue with its file and new-file lines


def build_keyed_change(path: Path) -> KeyedChange:
    repo = Repo(path)
    repo.write("shop/orders.py", BASE_ORDERS)
    repo.write("shop/export.py", BASE_EXPORT)
    repo.write("web/session.js", BASE_SESSION)
    repo.write("README.md", "A small shop.\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("shop/orders.py", CHANGED_ORDERS)
    repo.write("shop/export.py", CHANGED_EXPORT)
    repo.write("web/session.js", CHANGED_SESSION)
    repo.commit("orders, reports and sessions")
    issues = []
    for file, issue_id, needle, category, severity, keywords in ISSUES:
        lines = (path / file).read_text().splitlines()
        [line] = [n for n, text in enumerate(lines, start=1) if needle in text]
        issues.append(
            {
                "file": file,
                "id": issue_id,
                "lines": [line, line],
                "category": category,
                "severity": severity,
                "keywords": keywords,
            }
        )
    for file in sorted({i["file"] for i in issues}):
        tables = [
            f'[[issue]]\nid = "{i["id"]}"\nlines = {i["lines"]}\ncategory = "{i["category"]}"\n'
            f'severity = "{i["severity"]}"\nkeywords = {i["keywords"]!r}\n'.replace("'", '"')
            for i in issues
            if i["file"] == file
        ]
        (path / f"{file}.key.toml").write_text("\n".join(tables))
    patch = path / "keyed-change.patch"
    patch.write_text(repo.git("diff", "main...feature"))
    return KeyedChange(repo, "main...feature", patch, issues)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 -m tests.change_fixture DIRECTORY")
    built = build_keyed_change(Path(sys.argv[1]))
    print(
        f"built {built.repo.path}: review it with `driftcheck review --diff {built.range}` there, "
        f"or evaluate models on it with `driftcheck eval --set {built.patch}`"
    )
