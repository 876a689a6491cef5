import pytest

from finews_spider.upstream import (
    UpstreamFormatError,
    feed_url,
    info_code_from_share_url,
    is_valid_info_code,
    parse_feed,
    parse_text,
    share_url,
    text_url,
)


def test_feed_in_both_spellings_gives_the_same_records():
    new = {
        "record": [
            {"infoCode": "NW1", "title": "t", "datetime": "2021-12-23 07:25:33", "medianame": "山西晚报", "extra": 1}
        ]
    }
    old = {"nodeList": [{"infocode": "NW1", "title": "t", "showtime": "2021-12-23 07:25:33", "from": "山西晚报"}]}
    expected = [{"info_code": "NW1", "title": "t", "datetime": "2021-12-23 07:25:33", "newspaper": "山西晚报"}]
    assert parse_feed(new) == expected
    assert parse_feed(old) == expected


def test_empty_and_invalid_feeds():
    assert parse_feed({"record": []}) == []
    assert parse_feed({"record": None}) == []
    with pytest.raises(UpstreamFormatError):
        parse_feed({"error": "x"})
    with pytest.raises(UpstreamFormatError):
        parse_feed([1, 2])


def test_text_body_under_text_or_content():
    assert parse_text({"text": "<p>a</p>"})["body_html"] == "<p>a</p>"
    fields = parse_text({"content": "<p>b</p>", "title": "T", "showtime": "2021-12-24 08:40", "medianame": "大河报"})
    assert fields == {"body_html": "<p>b</p>", "title": "T", "datetime": "2021-12-24 08:40", "newspaper": "大河报"}
    with pytest.raises(UpstreamFormatError):
        parse_text({"nothing": 1})


def test_urls():
    assert feed_url("http://h/api", 37, 100) == "http://h/api?marketType=37&count=100"
    assert text_url("http://h/t.do", "NW1") == "http://h/t.do?id=NW1"
    assert share_url("http://h/NewsShare.html", "NW1") == "http://h/NewsShare.html?infoCode=NW1"


def test_share_url_parsing():
    url = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112232223130395"
    assert info_code_from_share_url(url) == "NW202112232223130395"
    assert info_code_from_share_url("  " + url + "&from=timeline ") == "NW202112232223130395"
    for bad in [
        "not a url",
        "http://x/other.html?infoCode=NW1",
        "http://x/NewsShare.html",
        "http://x/NewsShare.html?infoCode=../../x",
        "ftp://x/NewsShare.html?infoCode=NW1",
    ]:
        with pytest.raises(ValueError):
            info_code_from_share_url(bad)


@pytest.mark.parametrize(
    "code,ok",
    [
        ("NW202112232223130395", True),
        ("../../x", False),
        ("", False),
        ("NW1\n", False),
        ("NW\x001", False),
        (None, False),
        ("ＮＷ1", False),
    ],
)
def test_info_code_must_be_letters_and_digits(code, ok):
    assert is_valid_info_code(code) is ok
