"""The user documents' examples (docs/search-syntax.md, docs/datasette.md) are run against
the quick start's archive, and the output they show is the output they give
(tests/doc_examples.py; ``python -m tests.doc_examples DOC FOLDER`` rewrites a document)."""

from __future__ import annotations

import difflib

import pytest

from tests.conftest import ROOT
from tests.doc_examples import examples, regenerate


@pytest.mark.parametrize("name, at_least", [("search-syntax.md", 40), ("datasette.md", 5)])
def test_every_example_shows_its_real_output(replayed_archive, name, at_least):
    text = (ROOT / "docs" / name).read_text("utf-8")
    assert examples(text) >= at_least  # the examples are recognized (none skipped as prose)
    regenerated = regenerate(text, replayed_archive)
    diff = "\n".join(difflib.unified_diff(text.split("\n"), regenerated.split("\n"), "documented", "real", lineterm=""))
    assert regenerated == text, diff
