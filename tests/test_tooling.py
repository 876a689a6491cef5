"""The edit loop's guard rails hold: the policy for a missing outside program, no
``sys.path`` edits between bench/, scripts/ and tests/, a toy run for every benchmark,
and fast tests that start no process (``-m "not slow"``; see docs/testing.md)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import ROOT, TOOLS, find_tool, require_tool
from tests.test_bench import FIGURES


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


SYS_PATH_EDIT = re.compile(r"sys\.path\.(insert|append|extend)\(|sys\.path\s*(\+?=|\[)")


def test_bench_scripts_and_tests_import_each_other_without_sys_path_edits():
    """They are packages run from the checkout (``python -m bench.site``, ``python -m
    pytest``), so ``tests.synthetic`` or ``bench.search`` are imported as they are."""
    files = [p for folder in ("bench", "scripts", "tests") for p in (ROOT / folder).rglob("*.py")]
    edits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if SYS_PATH_EDIT.search(line)
    ]
    assert edits == [] and len(files) > 50
    assert all((ROOT / folder / "__init__.py").is_file() for folder in ("bench", "scripts", "tests"))


def test_every_bench_script_has_a_tiny_run_in_the_suite():
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")} - {"__init__"}
    assert set(FIGURES) == scripts
    for name in scripts:
        assert '"--tiny"' in (ROOT / "bench" / f"{name}.py").read_text("utf-8"), name


def test_a_fast_test_may_not_start_a_process():
    """Tests that start processes are marked slow (tests/conftest.py): a fast one that starts
    one fails, saying so, so the fast subset stays fast."""
    with pytest.raises(pytest.fail.Exception, match="mark it slow"):
        subprocess.run(["true"])
