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
