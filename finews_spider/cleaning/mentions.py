"""Which listed securities and sector boards an article mentions, read from the service's tags.

The service tags company and sector names inside article bodies, and puts live K-line charts
of some securities at the top. Real markup (issue 12; an article of the old archive)::

    <!-- EM_StockImg_Start --><p style="text-align:center;"><a href="http://quote.eastmoney.com/unify/r/106.NIO"
     data-code="NIO|106|7" class="EmImageRemark"><img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=106.NIO&…"
     alt="K图 NIO_0"></a></p><!-- EM_StockImg_End -->
    …制冷剂的<span id="bk_90.BK0493"><a href="http://quote.eastmoney.com/unify/r/90.BK0493" class="keytip"
     data-code="90,BK0493">新能源</a></span><span id="bkquote_90.BK0493"></span>汽车来了！
    …宣布为<span id="stock_106.NIO"><a href="http://quote.eastmoney.com/unify/r/106.NIO" class="keytip"
     data-code="106,NIO">蔚来</a></span>…<span id="stock_1.600160"><a … data-code="1,600160">巨化股份</a></span>…

Three kinds of tag carry a code:

========================================== ========================= =====================
tag                                        ``data-code``             mention
========================================== ========================= =====================
``<span id="stock_M.CODE"><a …>NAME</a>``  ``market,code``           ``stock``, named NAME
``<span id="bk_90.BKnnnn"><a …>NAME</a>``  ``90,BKnnnn``             ``board``, named NAME
``<a class="EmImageRemark">`` (K-line)     ``CODE|market|type``      ``stock``, named by a
                                                                     tag of the same code
                                                                     in the body, else CODE
========================================== ========================= =====================

An ``<a data-code="market,code">`` outside a ``stock_``/``bk_`` span is read the same way
(market 90 is a board, anything else a stock). A tag is a mention only when its market
is 1-3 digits and its code 1-16 letters, digits, ``.``, ``_`` or ``-`` starting with a
letter or digit; anything else (no code, ``601628,1`` reversed, markup or quotes in the
code) is skipped and counted nowhere. Its text stays in the body either way.

Codes are compared and kept in upper case (``106,nio`` and ``106,NIO`` are one mention):
tickers and board codes are upper case at the service, and the tagger's case carries no
meaning. Market numbers are kept as the service writes them, without leading zeros.

Market numbers and exchanges
----------------------------

The market number is the service's (eastmoney's): the part before the dot in its quote
links ``http://quote.eastmoney.com/unify/r/<market>.<code>`` and in its ``secid``
parameters. ``exchange`` is filled in where the number is known, from this table:

======= ======================== ==============================================================
market  exchange                 evidence
======= ======================== ==============================================================
0       ``SZSE`` (Shenzhen)      ``0,300343`` 联创股份 in the example (a ChiNext share, Shenzhen)
0       ``BSE/NEEQ`` (Beijing)   codes 4xxxxx / 8xxxxx under market 0 (eastmoney's filter for
                                 北证A股 is ``m:0 t:81``; the same ranges are NEEQ's)
0       ``BSE``                  codes 920xxx (the Beijing exchange's own range since 2024)
1       ``SSE`` (Shanghai)       ``1,600160`` 巨化股份 in the example (Shanghai main board)
105     ``NASDAQ``               eastmoney ``secid`` 105.AAPL, 105.TSLA
106     ``NYSE``                 ``106,NIO`` 蔚来 in the example (NIO trades on the NYSE)
107     ``NYSE American``        formerly AMEX; 105/106/107 are the three US markets
116     ``HKEX``                 ``secid`` 116.00700 (Tencent), five-digit Hong Kong codes
128     ``HKEX``                 Hong Kong shares through Stock Connect (港股通)
155     ``LSE``                  London (英股)
8       ``CFFEX``                China Financial Futures Exchange (中金所)
113     ``SHFE``                 Shanghai Futures Exchange (上期所)
114     ``DCE``                  Dalian Commodity Exchange (大商所)
115     ``CZCE``                 Zhengzhou Commodity Exchange (郑商所)
142     ``INE``                  Shanghai International Energy Exchange (上海能源)
225     ``GFEX``                 Guangzhou Futures Exchange (广期所)
90      none                     sector boards (板块), ``90,BK0493`` 新能源 in the example
other   none                     unknown: the number is kept as it is
======= ======================== ==============================================================

The numbers beyond the example's are those of eastmoney's public quote API as used by
the open-source clients of it (e.g. efinance's ``MARKET_NUMBER_DICT``: 0 深A, 1 沪A,
105/106/107 美股, 116/128 港股, 155 英股, 8/113/114/115/142/225 futures, 90 板块).

What is not a mention: a tag inside the attribution paragraph or the editor credit (the
tagger reads the 证券 of 上海证券报 as the securities board), and a tag inside markup that
never reaches the body (comments, scripts, styles...). The K-line charts themselves leave
the body (:func:`drop_kline_pictures`): they are quote charts of the moment of fetching.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from typing import NamedTuple

from .attribution import credits_in

__all__ = ["Mention", "drop_kline_pictures", "exchange_of", "find_mentions", "MARKET_EXCHANGES"]


class Mention(NamedTuple):
    """One security or board an article mentions."""

    kind: str  # "stock" or "board"
    market: str  # the service's market number, as text: "1", "106", "90"
    code: str  # upper case: "600160", "NIO", "BK0493"
    name: str  # the tagged text: "巨化股份"; the code when no tag names it
    exchange: str | None  # "SSE", "NYSE"... (see MARKET_EXCHANGES); None when unknown or a board


MARKET_EXCHANGES: dict[str, str] = {
    "0": "SZSE",
    "1": "SSE",
    "105": "NASDAQ",
    "106": "NYSE",
    "107": "NYSE American",
    "116": "HKEX",
    "128": "HKEX",
    "155": "LSE",
    "8": "CFFEX",
    "113": "SHFE",
    "114": "DCE",
    "115": "CZCE",
    "142": "INE",
    "225": "GFEX",
}
BOARD_MARKET = "90"
MAX_CODE_LENGTH = 16
MAX_NAME_LENGTH = 40

_MARKET = re.compile(r"[0-9]{1,3}")
_CODE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_CODE_LENGTH - 1}}}")

_QUICK_WORDS = ("data-code", "em_stockimg", "emimageremark", "webquoteklinepic")
_QUICK = re.compile("|".join(_QUICK_WORDS), re.I)
# The non-ASCII letters that a case-insensitive pattern of ASCII letters matches
# (İ ı ſ K); str.lower() maps no other character to an ASCII letter.
_QUICK_FOLDS = "\u0130\u0131\u017f\u212a"
# Markup whose content never reaches the body: a tag in it is no mention.
_HIDDEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|iframe|object|embed|template|noscript|select|textarea|button|title|xmp)\b.*?(?:</\1\s*>|\Z)",
    re.I | re.S,
)
# The attributes of a tag, honouring quotes (a ">" inside quotes does not end the tag).
_IN_TAG = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_ATTRS = r"(?P<attrs>" + _IN_TAG + ")"
# An <a> with a data-code, and its content up to the next <a> or </a> (a browser closes an
# open <a> at the next one).
_INNER = r"(?P<inner>(?:(?!</?a\b).)*)"
_ANCHOR = re.compile(r"<a\b(?=" + _IN_TAG + r"?data-code)" + _ATTRS + ">" + _INNER, re.I | re.S)
_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_SPAN_BEFORE = re.compile(r"""<span\b[^>]*?\bid\s*=\s*["']?(stock|bk)_[^>]*>\s*\Z""", re.I)
_BLOCK_TAG = re.compile(r"<(?:p|div|br|li|ul|ol|h[1-6]|table|tr|td|th|blockquote|pre)\b", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"[\s\u3000\u00a0]+")
# The edges of paragraphs: credits are a paragraph's whole text, or the text after the last one.
_BLOCK_EDGE = re.compile(r"<(/?)(?:p|div)\b[^>]*>", re.I)

_KLINE_BLOCK = re.compile(
    r"<!--\s*EM_StockImg_Start\s*-->(?P<inner>(?:(?!<!--\s*EM_StockImg_(?:Start|End)\s*-->).)*?)<!--\s*EM_StockImg_End\s*-->",
    re.I | re.S,
)
# A chart's anchor: class EmImageRemark, or a data-code of the chart form CODE|market|type.
_KLINE_ANCHOR = re.compile(
    r"""<a\b(?=[^>]*(?:\bEmImageRemark\b|data-code\s*=\s*["']?[^"'\s>|]*\|))"""
    + _ATTRS
    + ">"
    + _INNER
    + r"(?:</a\s*>)?",
    re.I | re.S,
)
_KLINE_IMAGE = re.compile(r"<img\b(?=[^>]*webquoteklinepic\.eastmoney\.com)" + _IN_TAG + ">", re.I)
_IMG = re.compile(r"<img\b" + _IN_TAG + ">", re.I)


def exchange_of(market: str, code: str) -> str | None:
    """The exchange of a security from its market number and code, or ``None``.

    >>> exchange_of("1", "600160"), exchange_of("0", "830799"), exchange_of("106", "NIO")
    ('SSE', 'BSE/NEEQ', 'NYSE')
    """
    if market == "0":
        if code.startswith("920"):
            return "BSE"
        if code[:1] in ("4", "8"):
            return "BSE/NEEQ"
    return MARKET_EXCHANGES.get(market)


def _has_text(markup: str) -> bool:
    """Whether ``markup`` shows any text (entities decoded, comments and tags aside)."""
    text = html.unescape(_TAG.sub("", _HIDDEN.sub("", markup)))
    return bool(_SPACE.sub("", text))


def _drop_kline_anchor(match: re.Match) -> str:
    # The chart goes; text someone put inside the anchor stays (without the pictures).
    inner = match["inner"]
    return _IMG.sub("", inner) if _has_text(inner) else ""


def _drop_kline_block(match: re.Match) -> str:
    inner = match["inner"]
    return "" if not _has_text(inner) else inner


def may_hold_tags(body: str) -> bool:
    """Whether ``body`` may hold a stock tag or a K-line chart (``_QUICK`` matches it):
    False only when it certainly does not. Three times as fast as the case-insensitive
    search, which it only needs for a body holding one of the letters ``_QUICK_FOLDS``.

    >>> may_hold_tags('<a DATA-Code="1,600160">'), may_hold_tags("<p>巨化股份</p>")
    (True, False)
    """
    if not body:
        return False
    lowered = body.lower()
    if any(word in lowered for word in _QUICK_WORDS):
        return True
    return any(letter in body for letter in _QUICK_FOLDS) and _QUICK.search(body) is not None


def drop_kline_pictures(body: str) -> str:
    """Remove the live K-line charts from a raw body, before it is sanitized.

    A block ``<!-- EM_StockImg_Start -->…<!-- EM_StockImg_End -->`` that shows no text
    goes whole (its ``<p>`` too). Wherever else a chart is (a block without its end
    comment, a block holding text), the ``<a class="EmImageRemark">`` anchor and any image
    of ``webquoteklinepic.eastmoney.com`` go, and the text around them stays.
    """
    if not may_hold_tags(body):
        return body
    body = _KLINE_BLOCK.sub(_drop_kline_block, body)
    body = _KLINE_ANCHOR.sub(_drop_kline_anchor, body)
    return _KLINE_IMAGE.sub("", body)


class _Credits:
    """Tells whether a position of a raw body lies in its credits (attribution, editor).

    The credits are what ``split_credits`` takes out of the sanitized body: a paragraph
    (``p`` or ``div``, closed by its end tag or by the next paragraph, as a browser does)
    whose text is nothing but credits, or such text after the last paragraph. Only the
    paragraphs around tags are read, so a body costs one scan for paragraph edges."""

    def __init__(self, body: str):
        self.body = body
        self.edges = [(m.start(), m.end(), bool(m[1])) for m in _BLOCK_EDGE.finditer(body)]
        self.starts = [start for start, _, _ in self.edges]
        self.known: dict[int, bool] = {}

    def __contains__(self, position: int) -> bool:
        i = bisect_right(self.starts, position)
        if i not in self.known:
            before = self.edges[i - 1] if i else None
            after = self.edges[i] if i < len(self.edges) else None
            opened = before is not None and not before[2]
            if opened or after is None:  # inside a paragraph, or after the last one
                text = self.body[before[1] if before else 0 : after[0] if after else len(self.body)]
                self.known[i] = credits_in(text) is not None
            else:  # bare text between paragraphs: never taken as credits
                self.known[i] = False
        return self.known[i]


def _attribute(attrs: str, wanted: str) -> str | None:
    """The value of attribute ``wanted`` (the first one, as browsers read it), unescaped."""
    for match in _ATTR.finditer(attrs):
        if match[1].lower() == wanted:
            value = next((v for v in match.groups()[1:] if v is not None), "")
            return html.unescape(value)
    return None


def _name(inner: str) -> str | None:
    """The tagged text as a name, or ``None`` when it is no name (empty, a whole paragraph)."""
    if _BLOCK_TAG.search(inner):
        return None
    text = _SPACE.sub(" ", html.unescape(_TAG.sub("", inner))).strip()
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))
    return text if 0 < len(text) <= MAX_NAME_LENGTH else None


def _read_code(value: str) -> tuple[str, str, bool] | None:
    """``(market, code, is_kline)`` of a ``data-code`` value, or ``None`` if it is not one."""
    if "|" in value:  # K-line chart: CODE|market|type
        parts = value.split("|")
        code, market, kline = parts[0], parts[1], True
    else:  # market,code
        parts = value.split(",")
        if len(parts) != 2:
            return None
        market, code, kline = parts[0], parts[1], False
    market, code = market.strip(), code.strip()
    if not _MARKET.fullmatch(market) or not _CODE.fullmatch(code):
        return None
    return str(int(market)), code.upper(), kline


def find_mentions(body: str) -> tuple[Mention, ...]:
    """The securities and boards a raw body mentions, one per (kind, market, code), in order
    of first appearance. Read the raw body, before it is sanitized (which drops the codes).

    >>> find_mentions('<p>为<span id="stock_106.NIO"><a data-code="106,NIO">蔚来</a></span>供货</p>')
    (Mention(kind='stock', market='106', code='NIO', name='蔚来', exchange='NYSE'),)
    """
    if not may_hold_tags(body):
        return ()
    visible = _HIDDEN.sub("", body)
    credits = _Credits(visible)
    found: dict[tuple[str, str, str], str | None] = {}  # key -> first good name
    for match in _ANCHOR.finditer(visible):
        value = _attribute(match["attrs"], "data-code")
        read = _read_code(value) if value is not None else None
        if read is None or match.start() in credits:
            continue
        market, code, kline = read
        if kline:
            kind, name = "stock", None
        else:
            span = _SPAN_BEFORE.search(visible, max(0, match.start() - 400), match.start())
            if span:
                kind = "board" if span[1].lower() == "bk" else "stock"
            else:
                kind = "board" if market == BOARD_MARKET else "stock"
            name = _name(match["inner"])
        key = (kind, market, code)
        if found.get(key) is None:
            found[key] = name
    names_by_code: dict[str, str] = {}
    for (kind, _, code), name in found.items():
        if kind == "stock" and name is not None:
            names_by_code.setdefault(code, name)
    return tuple(
        Mention(
            kind,
            market,
            code,
            name or names_by_code.get(code) or code,
            None if kind == "board" else exchange_of(market, code),
        )
        for (kind, market, code), name in found.items()
    )
