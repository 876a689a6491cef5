#!/usr/bin/env bash
# The package as users install it: build the wheel, install it (not editable) into a fresh
# venv outside the checkout, and from there run the sample crawl, `scrapy site`, and a
# Chinese search through plain `datasette`. Fails on the first step that does not work.
set -euo pipefail
checkout=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
pip=("$work/venv/bin/pip" install -q --disable-pip-version-check)
# Built from a copy of the tracked files: a build in the checkout would leave build/ and
# *.egg-info behind in it.
mkdir "$work/src"
(cd "$checkout" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
"$work/venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$work/dist" "$work/src"
"${pip[@]}" -r "$checkout/requirements.txt" "$work"/dist/*.whl
cd "$work"  # nothing of the checkout on the path
export SCRAPY_SETTINGS_MODULE=finews_spider.settings  # the project, without its scrapy.cfg
venv/bin/python -c 'import finews_spider, sys; assert "site-packages" in finews_spider.__file__, finews_spider.__file__'
venv/bin/scrapy crawl finews -s FINEWS_DATA_DIR="$work/data" -s FINEWS_REPLAY="$checkout/data/sample/upstream.warc.gz" \
  -s LOG_LEVEL=WARNING
test "$(ls "$work/data/_posts" | wc -l)" -eq 34
venv/bin/scrapy site "$work/site" -s FINEWS_DATA_DIR="$work/data"
test -s "$work/site/newspapers.html" && test -s "$work/site/site.css"
venv/bin/datasette plugins | grep -q '"name": "finews-spider"'  # the plugin, from the wheel's entry point
matches=$(venv/bin/datasette "$work/data/finews.db" --get '/finews/articles.json?_search=十四五&_size=1' \
  | venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["filtered_table_rows_count"])')
test "$matches" -ge 1
echo "wheel check: installed $(ls "$work"/dist), 34 posts, site built, 十四五 found in $matches articles by plain datasette"
