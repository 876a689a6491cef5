"""One spider per newspaper of the registry (``newspapers.csv``), named by its slug.

The registry is data: adding a row adds a spider. ``scrapy list`` shows them all.
"""

from ..registry import Registry
from .base import FinewsSpider


def _spider_class(slug: str, name: str) -> type[FinewsSpider]:
    return type(
        f"{slug.capitalize()}Spider",
        (FinewsSpider,),
        {"name": slug, "newspaper": name, "__module__": __name__, "__doc__": f"Articles of {name}."},
    )


for _paper in Registry.load().papers:
    globals()[f"{_paper.slug.capitalize()}Spider"] = _spider_class(_paper.slug, _paper.name)
