"""Spiders: ``finews`` (every newspaper) and one per registered newspaper, all on
:class:`~finews_spider.spiders.base.FinewsSpider`."""
