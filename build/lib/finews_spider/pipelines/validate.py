from __future__ import annotations

from itemadapter import ItemAdapter

from ..cleaning import parse_published_at
from ..cleaning.names import NameRefused, check_newspaper_name
from ..upstream import is_valid_info_code
from . import ArticlePipeline


class ValidatePipeline(ArticlePipeline):
    """Refuse articles that cannot be archived safely, before anything touches the disk:
    an infoCode that is not letters and digits, a missing title, newspaper or body, a
    date that does not parse, a newspaper name that is refused (``cleaning/names.py``:
    markup, path characters, too long, no letter). Normalizes the newspaper's name
    (whitespace, invisible characters) and parses the date into ``published_at``."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        code = adapter.get("info_code")
        if not is_valid_info_code(code):
            raise self.drop(item, "info_code", f"infoCode {code!r} is not letters and digits")
        for field in ("title", "newspaper", "body_html"):
            value = adapter.get(field)
            if not isinstance(value, str) or not value.strip():
                raise self.drop(item, f"no_{field}", f"upstream gave no {field}")
        try:
            adapter["newspaper"] = check_newspaper_name(adapter["newspaper"])
        except NameRefused as exc:
            raise self.drop(item, "newspaper", str(exc)) from None
        if adapter.get("published_at") is None:
            try:
                adapter["published_at"] = parse_published_at(adapter.get("raw_datetime"))
            except ValueError as exc:
                raise self.drop(item, "date", str(exc)) from None
        adapter.pop("raw_datetime", None)
        return item
