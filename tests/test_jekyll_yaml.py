"""The post header's YAML: quoted titles read back exactly, and the quick path writes
what PyYAML's emitter writes."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from finews_spider.exporters.jekyll import _INF, _PLAIN_QUOTED, yaml_quote

# Characters around every edge of the quick path: ASCII, the ones YAML escapes (controls,
# U+0085, U+2028, U+2029, U+FEFF, U+FFFE/FFFF, above the BMP) and CJK text.
EDGES = st.sampled_from(
    [
        "\x00",
        "\x1f",
        "\x7f",
        "\x85",
        "\xa0",
        "\u2027",
        "\u2028",
        "\u2029",
        "\u202a",
        "\u3000",
        "\ud7ff",
        "\ue000",
        "\ufefe",
        "\ufeff",
        "\uff00",
        "\ufffd",
        "\ufffe",
        "\uffff",
        "\U0001f600",
        '"',
        "\\",
        "'",
        " ",
        "中",
    ]
)
# Mostly characters of the quick path, so that one edge character is often the only
# thing that sends a title to the slow one.
TITLES = st.text(
    alphabet=st.one_of(
        EDGES,
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=12,
)


@settings(max_examples=2000, deadline=None)
@given(TITLES)
def test_yaml_quote_is_pyyaml_output(text):
    assert yaml_quote(text) == yaml.safe_dump(text, default_style='"', allow_unicode=True, width=_INF).rstrip("\n")
    assert yaml.safe_load(yaml_quote(text)) == text


def test_ordinary_titles_take_the_quick_path():
    for title in ("山西晚报：十四五规划开局之年 A股收涨1.2%", "“双碳”目标下的能源转型（二）", ""):
        assert _PLAIN_QUOTED.fullmatch(title)
    for title in ('a "b"', "a\\b", "a\u2028b", "\ufeffa", "😀"):
        assert not _PLAIN_QUOTED.fullmatch(title)


def test_every_character_of_the_bmp_is_quoted_as_pyyaml_quotes_it():
    """Each code point (surrogates aside, and a few above the BMP) between two characters
    of the quick path: the quick path never writes what PyYAML would escape."""
    points = [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF] + [0x10000, 0x1F600, 0x10FFFF]
    for c in points:
        text = f"a{chr(c)}中"
        assert yaml_quote(text) == yaml.safe_dump(text, default_style='"', allow_unicode=True, width=_INF).rstrip(
            "\n"
        ), hex(c)
