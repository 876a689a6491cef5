"""docs/reference/ is generated from the code (finews_spider/reference.py): the settings
from the one table in config.py, the commands from their help. A setting or an option
added, renamed or re-documented without regenerating the docs fails here."""

from __future__ import annotations

import importlib

import pytest

from finews_spider import reference
from finews_spider.config import SETTINGS


@pytest.mark.parametrize("name", sorted(reference.REFERENCES))
def test_the_reference_pages_are_what_the_code_generates(name):
    committed = (reference.DOCS / name).read_text("utf-8")
    assert committed == reference.REFERENCES[name](), f"run: python -m finews_spider.reference ({name} is stale)"


def test_every_setting_is_documented_with_what_it_accepts():
    text = reference.settings_reference()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in text
        assert setting.doc and setting.parse.accepts, setting.name


@pytest.mark.parametrize("name", reference.COMMANDS)
def test_every_command_has_a_long_help_with_examples_and_exit_statuses(name):
    command = importlib.import_module(f"finews_spider.commands.{name}").Command
    assert command.description and command.examples and command.exit_statuses, name
    assert 0 in {code for code, _ in command.exit_statuses}
    assert any(line.startswith(f"scrapy {name}") for line in command.examples)


def test_a_stale_page_is_reported_by_the_check(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(reference, "DOCS", tmp_path)
    assert reference.main(["--check"]) == 1 and "out of date" in capsys.readouterr().err
    assert reference.main([]) == 0 and reference.main(["--check"]) == 0
    (tmp_path / "settings.md").write_text("edited by hand\n")
    assert reference.main(["--check"]) == 1
