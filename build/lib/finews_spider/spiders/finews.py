from .base import FinewsSpider


class AllNewspapersSpider(FinewsSpider):
    """Every article of every feed, whatever its newspaper."""

    name = "finews"
