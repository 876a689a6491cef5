"""finews archive: a Scrapy project that archives regional newspapers republished by a
financial news service as a Jekyll site and a SQLite database."""

__version__ = "0.1.0"
