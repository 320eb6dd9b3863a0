"""`driftcheck config`: show, set and unset settings — the settings screen's headless twin."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from app.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    config = sub.add_parser(
        "config",
        help="show or change settings (the config file)",
        description="Read and write the TOML config. Keys are never stored: they come from the environment.",
    )
    actions = config.add_subparsers(dest="config_action", metavar="ACTION")
    actions.add_parser("show", help="the config file and its contents (the default)")
    actions.add_parser("path", help="where the config file is")
    setting = actions.add_parser(
        "set",
        help="set a setting: default, compare, judges, routes.TASK, "
        "resilience.NAME, endpoints.NAME.FIELD, local.NAME, prices.MODEL.FIELD",
    )
    setting.add_argument("key", metavar="KEY")
    setting.add_argument(
        "value",
        metavar="VALUE",
        help='a TOML value (3, true, ["a", "b"]) or text; compare/judges/fallback take SPEC,SPEC',
    )
    unset = actions.add_parser("unset", help="remove a setting")
    unset.add_argument("key", metavar="KEY")


def run(args: argparse.Namespace) -> int:
    from app.config.load import load_config
    from app.config.writer import parse_value, update_config
    from app.locations import config_path

    path = config_path()
    action = args.config_action or "show"
    if action == "path":
        print(path)
        return ExitCode.OK
    if action == "set":
        value = parse_value(args.key, args.value)
        if value in ("", []):  # never a silent removal: that is what unset is for
            raise UsageError(
                f"{args.key} cannot be set to nothing; to remove it, run: driftcheck config unset {args.key}"
            )
        update_config({args.key: value}, path)
        print(f"driftcheck: {args.key} set in {path}", file=sys.stderr)
        return ExitCode.OK
    if action == "unset":
        update_config({args.key: None}, path)
        print(f"driftcheck: {args.key} removed from {path}", file=sys.stderr)
        return ExitCode.OK
    load_config()  # refuse a broken or readable-by-others file before showing it
    if not path.exists():
        print(f"# {path} does not exist yet: driftcheck runs on its defaults")
        return ExitCode.OK
    print(f"# {path}")
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return ExitCode.OK
