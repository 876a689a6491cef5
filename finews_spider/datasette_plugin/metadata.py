"""What the plugin contributes to Datasette's metadata for archives: ``metadata.yml``
beside this module (titles, column descriptions, facets, sort, canned queries, rendered
bodies, the charts of datasette-dashboards), under the name of every archive database.
A ``-m`` metadata file overrides any of it (Datasette merges it over the plugin's)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from .recognition import archive_names

METADATA_FILE = Path(__file__).with_name("metadata.yml")


def _load_template() -> dict:
    with open(METADATA_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


TEMPLATE = _load_template()
_metadata_json: dict[tuple[str, ...], str] = {}


def archive_metadata(names: tuple[str, ...]) -> dict:
    """The metadata the plugin contributes for these archive databases: the template's
    ``database`` part under each name, and one dashboard per archive."""
    databases, dashboards = {}, {}
    for name in names:
        databases[name] = TEMPLATE["database"]
        dashboard = json.loads(json.dumps(TEMPLATE["dashboard"]))
        for chart in dashboard["charts"].values():
            if "query" in chart:
                chart["db"] = name
        if len(names) > 1:
            dashboard["title"] = f"{dashboard['title']}: {name}"
        dashboards[dashboard_slug(name)] = dashboard
    if not names:
        return {}
    return {"databases": databases, "plugins": {"datasette-dashboards": dashboards}}


def dashboard_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "archive"


def metadata_for(datasette) -> dict:
    """The plugin's metadata for this Datasette's archives, a fresh copy every time
    (Datasette merges later sources into what it is given)."""
    names = archive_names(datasette)
    if not names:
        return {}
    if names not in _metadata_json:
        _metadata_json[names] = json.dumps(archive_metadata(names), ensure_ascii=False)
    return json.loads(_metadata_json[names])


# -- Datasette 1.0 ------------------------------------------------------------------------
# Datasette 1.0 has no get_metadata hook (removed in 1.0a14) and splits what 0.65 calls
# metadata in two: metadata proper (titles, descriptions, column descriptions), kept in
# its internal database and set with set_database_metadata() / set_resource_metadata() /
# set_column_metadata(); and configuration (a table's facets, sort, page size, label
# column, hidden, per-table plugin settings; plugin settings; queries), read from
# datasette.config, queries (1.0a31+) registered with add_query(). Plugins are to apply
# theirs in the startup hook. metadata.yml stays one file: these keys say which is which.

#: Keys of metadata.yml's database and table parts that are metadata proper in 1.0.
DESCRIPTIVE = {"title", "description", "description_html", "source", "source_url", "license", "license_url"}


def is_datasette_1(datasette) -> bool:
    """True for a Datasette whose metadata is the 1.0 kind (no ``metadata()`` method, the
    internal metadata tables' setters instead)."""
    return not callable(getattr(datasette, "metadata", None)) and hasattr(datasette, "set_resource_metadata")


def split_database(template: dict) -> tuple[dict, dict]:
    """metadata.yml's ``database`` part as 1.0 has it: (metadata, configuration)."""
    metadata = {k: v for k, v in template.items() if k in DESCRIPTIVE}
    config: dict = {k: v for k, v in template.items() if k not in DESCRIPTIVE | {"tables"}}
    metadata["tables"], config["tables"] = {}, {}
    for name, table in template.get("tables", {}).items():
        described = {k: v for k, v in table.items() if k in DESCRIPTIVE or k == "columns"}
        configured = {k: v for k, v in table.items() if k not in DESCRIPTIVE and k != "columns"}
        if described:
            metadata["tables"][name] = described
        if configured:
            config["tables"][name] = configured
    return metadata, config


def _merged_under(base: dict, ours: dict) -> dict:
    """``ours`` with ``base`` merged over it: what is already configured wins."""
    out = dict(ours)
    for key, value in base.items():
        out[key] = (
            _merged_under(value, out[key]) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


async def apply_to_datasette_1(datasette) -> None:
    """On Datasette 1.0 (called from the startup hook): the plugin's metadata and
    configuration for the archives present at startup, under what the user's metadata and
    configuration files already say (a file's key wins, as with ``-m`` on 0.65). A file
    that becomes an archive later gets them at the next start (0.65 looks on each request)."""
    names = archive_names(datasette)
    if not names:
        return
    contributed = archive_metadata(names)
    config = datasette.config if datasette.config is not None else {}
    for name in names:
        metadata, configured = split_database(contributed["databases"][name])
        present = await datasette.get_database_metadata(name)
        for key, value in metadata.items():
            if key != "tables" and key not in present:
                await datasette.set_database_metadata(name, key, value)
        for table, described in metadata["tables"].items():
            present = await datasette.get_resource_metadata(name, table)
            for key, value in described.items():
                if key != "columns" and key not in present:
                    await datasette.set_resource_metadata(name, table, key, value)
            for column, description in described.get("columns", {}).items():
                if "description" not in await datasette.get_column_metadata(name, table, column):
                    await datasette.set_column_metadata(name, table, column, "description", description)
        queries = configured.pop("queries", {})
        databases = config.setdefault("databases", {})
        databases[name] = _merged_under(databases.get(name) or {}, configured)
        add_query = getattr(datasette, "add_query", None)
        for query, spec in queries.items():
            if add_query is not None:  # 1.0a31+: stored queries; before, queries were configuration
                if await datasette.get_query(name, query) is not None:
                    continue  # the user's own, from datasette.yaml
                await add_query(
                    name,
                    query,
                    spec["sql"],
                    title=spec.get("title"),
                    description=spec.get("description"),
                    is_trusted=True,
                    source="plugin",
                    replace=False,
                )
            else:
                databases[name].setdefault("queries", {}).setdefault(query, spec)
    plugins = config.setdefault("plugins", {})
    plugins.update(_merged_under(plugins, contributed["plugins"]))
    datasette.config = config
