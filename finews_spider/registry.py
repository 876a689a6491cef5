"""The registry of regional newspapers, kept as data in ``newspapers.csv``.

One spider is generated per row (see ``spiders/newspapers.py``); the catch-all spider
``finews`` names papers missing from the registry with :func:`slugify`.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pypinyin import lazy_pinyin

REGISTRY_PATH = Path(__file__).with_name("newspapers.csv")

# Toneless pinyin makes 山西 and 陕西 the same word; the official romanisation of 陕西 is
# "Shaanxi", so that is what its slugs use.
_SPELLINGS = {"陕西": "shaanxi"}


@dataclass(frozen=True)
class Newspaper:
    slug: str
    name: str
    region: str = ""


# A slug names files (``category/<slug>.html``): past this length it is cut and a hash of
# the whole name is appended, so that no name makes a file name too long and two long
# names sharing a beginning still get different slugs.
MAX_SLUG_LENGTH = 60


def slugify(name: str) -> str:
    """The toneless pinyin of a newspaper's name, lower case, letters and digits only;
    at most :data:`MAX_SLUG_LENGTH` characters (a longer one ends in ``-`` and 6 hex
    digits of the name's hash).

    >>> slugify("山西晚报"), slugify("陕西日报")
    ('shanxiwanbao', 'shaanxiribao')
    """
    original = name
    for word, spelling in _SPELLINGS.items():
        name = name.replace(word, spelling)
    slug = re.sub(r"[^a-z0-9]+", "", "".join(lazy_pinyin(name)).lower())
    if len(slug) > MAX_SLUG_LENGTH:
        digest = hashlib.sha1(original.encode("utf-8")).hexdigest()[:6]
        slug = f"{slug[:MAX_SLUG_LENGTH - 7]}-{digest}"
    return slug


class Registry:
    """Known newspapers by name and slug, and slugs for the ones not (yet) registered."""

    def __init__(self, papers: list[Newspaper]):
        self.papers = papers
        self.by_name = {p.name: p for p in papers}
        self.by_slug = {p.slug: p for p in papers}
        if len(self.by_name) != len(papers) or len(self.by_slug) != len(papers):
            raise ValueError("newspaper registry has a duplicate name or slug")
        self._unknown: dict[str, str] = {}

    @classmethod
    def load(cls, path: str | Path = REGISTRY_PATH) -> "Registry":
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        return cls([Newspaper(r["slug"], r["name"], r.get("region", "")) for r in rows])

    def remember(self, known: dict[str, str]) -> None:
        """Slugs already given to unregistered papers (name -> slug, e.g. from the
        archive's ``newspapers`` table): they keep them, whatever the crawl order."""
        for name, slug in known.items():
            if name not in self.by_name:
                self._unknown.setdefault(name, slug)

    def paper_for(self, name: str) -> Newspaper:
        """The registered paper of this name, or a new entry with a unique slug.

        A name that is not registered gets the slug it was given before (see
        :meth:`remember`), else its pinyin slug; if that slug is taken (by the registry
        or another unregistered paper), a short hash of the name is appended.
        """
        if name in self.by_name:
            return self.by_name[name]
        slug = self._unknown.get(name)
        if slug is None:
            slug = slugify(name) or "paper"
            taken = set(self.by_slug) | set(self._unknown.values())
            if slug in taken:
                slug = f"{slug}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"
            self._unknown[name] = slug
        return Newspaper(slug, name, "")
