"""The registry of regional newspapers, kept as data in ``newspapers.csv``.

One spider is generated per row (see ``spiders/newspapers.py``); the catch-all spider
``finews`` names papers missing from the registry with :func:`slugify`.

Columns of ``newspapers.csv``:

``slug``
    The paper's category and spider name: the toneless pinyin of its name (:func:`slugify`),
    unless ``slug_note`` says why not.
``name``
    The name the upstream feeds give (``medianame``).
``province``, ``city``
    Where it is published; ``city`` is empty for a province's own papers.
``kind``
    A short word for what it is, mostly the name's ending: 日报, 晚报, 都市报, 晨报, 商报, …,
    or 网站 / 融媒体 for media that are not newspapers.
``legacy_slug``
    The slug the old site (the archive this one continues) gave the paper, where it differs
    from ``slug``: it spelled 重庆 ``zhongqing``, 厦门 ``shamen``, 西藏 ``xicang``, 漯河 ``tahe``,
    and 陕西/山西, 抚州/福州 and 泰州/台州 alike. Empty when the old slug was ``slug`` itself.
``slug_note``
    Why ``slug`` is not ``slugify(name)``; empty when it is.

A legacy slug may belong to two papers (``shanxiribao`` was used for 山西日报 and 陕西日报):
:attr:`Registry.by_legacy_slug` lists both, and an old post is assigned by the paper's name
it carries, never by its slug.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

REGISTRY_PATH = Path(__file__).with_name("newspapers.csv")
COLUMNS = ("slug", "name", "province", "city", "kind", "legacy_slug", "slug_note")

# Where pypinyin's reading is not the one a place name uses, or where toneless pinyin would
# merge two places. Every polyphonic character of the registry's names was checked by hand
# against pypinyin's output (see tests/test_registry.py); these are the fixes.
_SPELLINGS = {
    # Toneless pinyin makes 山西 and 陕西 the same word; the official romanisation of 陕西
    # is "Shaanxi", so that is what its slugs use.
    "陕西": "shaanxi",
    # 漯 is read luò in 漯河 (pypinyin says tà, as the old site's "taheribao" did).
    "漯河": "luohe",
}


@dataclass(frozen=True)
class Newspaper:
    """One paper: its registry row, or a paper met in a feed that the registry lacks
    (then only ``slug`` and ``name`` are set)."""

    slug: str
    name: str
    province: str = ""
    city: str = ""
    kind: str = ""
    legacy_slug: str = ""
    slug_note: str = ""

    @property
    def old_slug(self) -> str:
        """The slug the old site filed this paper's posts under."""
        return self.legacy_slug or self.slug


# A slug names files (``category/<slug>.html``): past this length it is cut and a hash of
# the whole name is appended, so that no name makes a file name too long and two long
# names sharing a beginning still get different slugs.
MAX_SLUG_LENGTH = 60


def slugify(name: str) -> str:
    """The toneless pinyin of a newspaper's name, lower case, letters and digits only;
    at most :data:`MAX_SLUG_LENGTH` characters (a longer one ends in ``-`` and 6 hex
    digits of the name's hash).

    >>> slugify("山西晚报"), slugify("陕西日报"), slugify("漯河日报")
    ('shanxiwanbao', 'shaanxiribao', 'luoheribao')
    """
    from pypinyin import lazy_pinyin  # here: importing it takes 0.3 s, and most runs never need it

    original = name
    for word, spelling in _SPELLINGS.items():
        name = name.replace(word, spelling)
    slug = re.sub(r"[^a-z0-9]+", "", "".join(lazy_pinyin(name)).lower())
    if len(slug) > MAX_SLUG_LENGTH:
        digest = hashlib.sha1(original.encode("utf-8")).hexdigest()[:6]
        slug = f"{slug[: MAX_SLUG_LENGTH - 7]}-{digest}"
    return slug


class Registry:
    """Known newspapers by name, slug and old slug, and slugs for the ones not (yet)
    registered.

    ``by_name`` (name -> paper) and ``by_slug`` (slug -> paper) are one-to-one;
    ``by_legacy_slug`` maps every slug of the old site to the papers filed under it: one
    paper, or two for the old slugs shared by two papers (``fuzhouribao``,
    ``shanxiribao``, ``taizhouribao``). A paper whose old slug was its own slug is listed
    under it too, so every old category name of a registered paper is a key.
    """

    def __init__(self, papers: list[Newspaper]):
        self.papers = papers
        self.by_name = {p.name: p for p in papers}
        self.by_slug = {p.slug: p for p in papers}
        if len(self.by_name) != len(papers) or len(self.by_slug) != len(papers):
            raise ValueError("newspaper registry has a duplicate name or slug")
        self.by_legacy_slug: dict[str, list[Newspaper]] = {}
        for paper in papers:
            self.by_legacy_slug.setdefault(paper.old_slug, []).append(paper)
        self._unknown: dict[str, str] = {}

    @classmethod
    def load(cls, path: str | Path = REGISTRY_PATH) -> Registry:
        """Read ``newspapers.csv`` (or another file with the same columns)."""
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = set(COLUMNS[:2]) - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            papers = [Newspaper(**{c: (row.get(c) or "").strip() for c in COLUMNS}) for row in reader]
        return cls(papers)

    def remember(self, known: dict[str, str]) -> None:
        """Slugs already given to unregistered papers (name -> slug, e.g. from the
        archive's ``newspapers`` table): they keep them, whatever the crawl order."""
        for name, slug in known.items():
            if name not in self.by_name:
                self._unknown.setdefault(name, slug)

    def unregistered_slug(self, name: str, is_taken) -> str:
        """A new slug for a paper missing from the registry: its pinyin, or if that is
        taken (by the registry, or by ``is_taken(slug)``: another unregistered paper), the
        pinyin and a short hash of the name."""
        slug = slugify(name) or "paper"
        if slug in self.by_slug or is_taken(slug):
            slug = f"{slug}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"
        return slug

    def paper_for(self, name: str) -> Newspaper:
        """The registered paper of this name, or a new entry with a unique slug, decided
        in this process (the archive decides with its database instead, see
        ``ArchiveDatabase.slug_for``; this serves archives without one).

        A name that is not registered gets the slug it was given before (see
        :meth:`remember`), else :meth:`unregistered_slug`.
        """
        if name in self.by_name:
            return self.by_name[name]
        slug = self._unknown.get(name)
        if slug is None:
            slug = self.unregistered_slug(name, set(self._unknown.values()).__contains__)
            self._unknown[name] = slug
        return Newspaper(slug, name)
