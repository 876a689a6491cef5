"""The settings and command references in ``docs/reference/``, generated from the code:
the settings from :data:`finews_spider.config.SETTINGS`, the commands from their help
(synopsis, options, examples, exit statuses). ``tests/test_reference.py`` fails when the
files differ from what this module makes.

    python -m finews_spider.reference          # rewrite docs/reference/*.md
    python -m finews_spider.reference --check  # exit 1 when they are out of date
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from .config import SETTINGS, Setting

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reference"
HEADER = "<!-- generated from the code by `python -m finews_spider.reference`; do not edit by hand -->\n"
#: The commands of the reference, in the order a user meets them.
COMMANDS = ("crawl", "import", "reextract", "rebuild", "search", "export", "site", "serve", "writer")


def _default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, (list, tuple)):
        return "`" + ",".join(str(v) for v in value) + "`"
    if isinstance(value, dict):
        return "<br>".join(f"`{k}`: `{v}`" for k, v in value.items())
    return f"`{json.dumps(value) if isinstance(value, bool) else value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _settings_table(settings: list[Setting]) -> list[str]:
    rows = ["| setting | default | accepts | what it does |", "| --- | --- | --- | --- |"]
    for s in settings:
        rows.append(f"| `{s.name}` | {_default(s.default)} | {_cell(s.parse.accepts)} | {_cell(s.doc)} |")
    return rows


def settings_reference() -> str:
    """``docs/reference/settings.md``."""
    lines = [
        HEADER,
        "# Settings",
        "",
        "Every knob is a Scrapy setting: `-s NAME=VALUE` on the command line, or `finews_spider/settings.py`.",
        "All of them are checked before anything starts: a value outside what it accepts, or a `FINEWS_*`",
        "name that is not a setting (a typo), stops the command with exit status 2 and one line naming",
        "the setting, the value and what it accepts. Booleans accept `1/0`, `true/false`, `yes/no`,",
        "`on/off`; spaces around values and list items are ignored.",
        "",
        *_settings_table([s for s in SETTINGS if not s.internal]),
        "",
        "## Between processes",
        "",
        "Set by one process for another; not for users.",
        "",
        *_settings_table([s for s in SETTINGS if s.internal]),
        "",
    ]
    return "\n".join(lines)


def _own_actions(command: Any) -> list[argparse.Action]:
    """The options a command adds to Scrapy's own (global ones left out)."""
    from scrapy.commands import ScrapyCommand

    base = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
    ScrapyCommand.add_options(command, base)
    known = {s for a in base._actions for s in a.option_strings}
    parser = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
    command.add_options(parser)
    return [a for a in parser._actions if a.option_strings and not set(a.option_strings) & known]


def command_section(name: str) -> list[str]:
    """One command's section: synopsis, what it does, options, examples, exit statuses."""
    from scrapy.settings import Settings

    command = importlib.import_module(f"finews_spider.commands.{name}").Command()
    command.settings = Settings()
    command.settings.setmodule("finews_spider.settings", priority="project")
    lines = [f"## scrapy {name}", "", "```", f"scrapy {name} {command.syntax()}".rstrip(), "```", ""]
    lines += [command.description or command.short_desc(), ""]
    actions = _own_actions(command)
    if actions:
        lines += ["| option | what it does |", "| --- | --- |"]
        for action in actions:
            flags = ", ".join(action.option_strings)
            metavar = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
            lines.append(f"| `{flags}{metavar}` | {_cell(action.help or '')} |")
        lines.append("")
    if command.examples:
        lines += ["Examples:", "", "```sh", *command.examples, "```", ""]
    lines += ["| exit | meaning |", "| --- | --- |"]
    lines += [f"| {code} | {_cell(meaning)} |" for code, meaning in command.exit_statuses]
    lines.append("")
    return lines


def commands_reference() -> str:
    """``docs/reference/commands.md``."""
    lines = [
        HEADER,
        "# Commands",
        "",
        "Every command takes Scrapy's global options too (`-s NAME=VALUE` for any setting, `--logfile`,",
        "`-L LEVEL`); `scrapy <command> -h` prints this help.",
        "",
    ]
    for name in COMMANDS:
        lines += command_section(name)
    return "\n".join(lines)


REFERENCES = {"settings.md": settings_reference, "commands.md": commands_reference}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/reference/ from the code.")
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is out of date; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, make in REFERENCES.items():
        path, text = DOCS / name, make()
        if path.exists() and path.read_text("utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            DOCS.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run python -m finews_spider.reference)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
