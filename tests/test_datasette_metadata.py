"""What the plugin contributes to Datasette's metadata (finews_spider/datasette_plugin/
metadata.py): on 0.65 through get_metadata; on 1.0, which has no such hook, applied at
startup through 1.0's own methods, under what the user's files say. 1.0 is not installed
here (0.65 is pinned): a stand-in with 1.0's methods records what the plugin does."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from finews_spider.datasette_plugin import metadata
from finews_spider.datasette_plugin.hooks import startup


class Datasette1:
    """The part of Datasette 1.0 (1.0a31+) the plugin uses: metadata setters and getters,
    ``config``, stored queries. No ``metadata()`` method (removed in 1.0a14)."""

    def __init__(self, databases: dict, config: dict | None = None, queries: dict | None = None):
        self.databases = databases
        self.config = config
        self.database_metadata: dict = {}
        self.resource_metadata: dict = {}
        self.column_metadata: dict = {}
        self.queries = dict(queries or {})

    async def get_database_metadata(self, db):
        return dict(self.database_metadata.get(db, {}))

    async def set_database_metadata(self, db, key, value):
        self.database_metadata.setdefault(db, {})[key] = value

    async def get_resource_metadata(self, db, table):
        return dict(self.resource_metadata.get((db, table), {}))

    async def set_resource_metadata(self, db, table, key, value):
        self.resource_metadata.setdefault((db, table), {})[key] = value

    async def get_column_metadata(self, db, table, column):
        return dict(self.column_metadata.get((db, table, column), {}))

    async def set_column_metadata(self, db, table, column, key, value):
        self.column_metadata.setdefault((db, table, column), {})[key] = value

    async def get_query(self, db, name):
        return self.queries.get((db, name))

    async def add_query(self, db, name, sql, *, replace=True, **options):
        assert replace or (db, name) not in self.queries
        self.queries[(db, name)] = dict(options, sql=sql)


def archive(path) -> SimpleNamespace:
    return SimpleNamespace(path=str(path), is_memory=False)


def test_the_1_0_way_at_startup_under_the_users_files(replayed_archive, tmp_path):
    (tmp_path / "plain.db").write_bytes(b"")
    ds = Datasette1(
        {"news": archive(replayed_archive / "finews.db"), "plain": archive(tmp_path / "plain.db")},
        config={
            "databases": {"news": {"tables": {"articles": {"size": 10}}}},
            "plugins": {"finews": {"newest_first_above": 3}},
        },
        queries={("news", "daily_counts"): {"sql": "select 1", "source": "config"}},
    )
    ds.database_metadata["news"] = {"title": "My news"}  # from the user's metadata.yml
    assert metadata.is_datasette_1(ds)
    asyncio.run(startup(ds))
    # Metadata proper: titles, descriptions, column descriptions; the user's title kept.
    assert ds.database_metadata["news"]["title"] == "My news"
    assert "regional newspaper articles" in ds.database_metadata["news"]["description_html"]
    assert ds.resource_metadata[("news", "articles")]["title"] == "Articles"
    assert ds.column_metadata[("news", "articles", "published_at")] == {
        "description": "Publication time, Beijing time (ISO 8601, +08:00)"
    }
    # Configuration: the table's facets and sort, the user's page size kept.
    articles = ds.config["databases"]["news"]["tables"]["articles"]
    assert articles["size"] == 10 and articles["sort_desc"] == "doc_id"
    assert articles["facets"] == ["newspaper", "published_date", "source"]
    assert articles["plugins"] == {"datasette-render-html": {"columns": ["body_html"]}}
    assert "title" not in articles and "columns" not in articles
    assert ds.config["plugins"]["finews"] == {"newest_first_above": 3}
    assert "news" in ds.config["plugins"]["datasette-dashboards"]
    # Stored queries, the user's own kept.
    assert (
        ds.queries[("news", "search")]["source"] == "plugin"
        and "finews_match(:q)" in ds.queries[("news", "search")]["sql"]
    )
    assert ds.queries[("news", "daily_counts")] == {"sql": "select 1", "source": "config"}
    # Nothing for a database that is not an archive.
    assert "plain" not in ds.database_metadata and "plain" not in ds.config["databases"]


def test_datasette_0_65_keeps_get_metadata(replayed_archive):
    ds = SimpleNamespace(databases={"news": archive(replayed_archive / "finews.db")}, metadata=lambda *a, **k: {})
    assert not metadata.is_datasette_1(ds) and startup(ds) is None
    contributed = metadata.metadata_for(ds)
    assert contributed["databases"]["news"]["tables"]["articles"]["sort_desc"] == "doc_id"
    assert contributed["databases"]["news"]["queries"]["search"]["title"] == "Search articles"
