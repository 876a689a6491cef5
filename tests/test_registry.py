from finews_spider.registry import Registry, slugify


def test_registry_has_at_least_30_papers_with_pinyin_slugs():
    registry = Registry.load()
    assert len(registry.papers) >= 30
    for paper in registry.papers:
        assert paper.slug == slugify(paper.name), paper


def test_shanxi_and_shaanxi_never_share_a_slug():
    assert slugify("山西晚报") == "shanxiwanbao"
    assert slugify("陕西日报") == "shaanxiribao"
    assert slugify("海南特区报") == "hainantequbao"
    registry = Registry.load()
    assert registry.by_name["陕西日报"].slug == "shaanxiribao"
    assert registry.by_name["山西日报"].slug == "shanxiribao"


def test_unregistered_paper_gets_pinyin_slug():
    assert Registry.load().paper_for("运城日报").slug == "yunchengribao"


def test_unregistered_name_colliding_with_registry_gets_unique_stable_slug():
    registry = Registry.load()
    # 山溪晚报 has the same toneless pinyin as the registered 山西晚报.
    slug = registry.paper_for("山溪晚报").slug
    assert slug.startswith("shanxiwanbao-") and slug != "shanxiwanbao"
    assert Registry.load().paper_for("山溪晚报").slug == slug  # same in every run
    assert registry.paper_for("山西晚报").slug == "shanxiwanbao"


def test_two_unregistered_names_with_the_same_pinyin_get_different_slugs():
    registry = Registry.load()
    first, second = registry.paper_for("清河日报"), registry.paper_for("青禾日报")
    assert first.slug != second.slug


def test_scrapy_list_shows_every_newspaper_and_the_catch_all(tmp_path):
    from tests.conftest import scrapy

    result = scrapy("list", data_dir=tmp_path)
    names = result.stdout.split()
    assert "finews" in names and "shanxiwanbao" in names and "shaanxiribao" in names
    assert set(p.slug for p in Registry.load().papers) <= set(names)
    assert "reextract" not in names


def test_unregistered_papers_keep_the_slug_the_archive_gave_them(tmp_path):
    """Whatever order a later crawl meets them in, two unregistered papers whose names
    share a pinyin keep their categories."""
    from datetime import datetime, timedelta, timezone

    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from finews_spider.exporters.sqlite import ArchiveDatabase
    from finews_spider.items import Article
    from finews_spider.pipelines.newspaper import NewspaperPipeline

    db = ArchiveDatabase(tmp_path / "finews.db")
    first = Registry.load()
    earlier = {name: first.paper_for(name).slug for name in ("青禾日报", "清河日报")}  # met in this order
    assert earlier["青禾日报"] == "qingheribao" and earlier["清河日报"].startswith("qingheribao-")
    for code, (name, slug) in enumerate(earlier.items()):
        db.save_article({"info_code": f"NW{code}", "title": "t", "newspaper": name, "slug": slug, "body_html": "<p>x</p>",
                         "published_at": datetime(2021, 12, 23, tzinfo=timezone(timedelta(hours=8))),
                         "share_url": "http://x", "fetched_at": datetime.now(timezone.utc)}, datetime.now(timezone.utc))
    db.close()
    stats = MemoryStatsCollector(get_crawler())
    pipeline = NewspaperPipeline(stats, Registry.load(), tmp_path / "finews.db")
    pipeline.open_spider()
    for name in ("清河日报", "青禾日报"):  # the other order this time
        item = pipeline.process_item(Article(newspaper=name))
        assert item["slug"] == earlier[name]
    assert pipeline.process_item(Article(newspaper="山西晚报"))["slug"] == "shanxiwanbao"
