"""The edit loop's guard rails hold: the policy for a missing outside program (jekyll,
chromium, redis-server: skipped on a developer's machine, a failure in CI), and fast tests
that start no process (``-m "not slow"``; see docs/testing.md)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import TOOLS, find_tool, require_tool


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_a_missing_program_skips_locally_and_fails_where_required(name, monkeypatch, tmp_path):
    variable = TOOLS[name][2]
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    monkeypatch.delenv(variable, raising=False)
    assert find_tool(name) is None
    with pytest.raises(pytest.skip.Exception, match=f"{name} is not installed"):
        require_tool(name)
    monkeypatch.setenv(variable, "1")
    for look in (find_tool, require_tool):
        with pytest.raises(pytest.fail.Exception, match=f"{variable}=1 requires it"):
            look(name)


def test_a_program_found_is_its_path(monkeypatch, tmp_path):
    program = tmp_path / "jekyll"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert require_tool("jekyll") == str(program) == find_tool("jekyll")


def test_a_fast_test_may_not_start_a_process():
    """Tests that start processes are marked slow (tests/conftest.py): a fast one that starts
    one fails, saying so, so the fast subset stays fast."""
    with pytest.raises(pytest.fail.Exception, match="mark it slow"):
        subprocess.run(["true"])
