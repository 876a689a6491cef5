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
    share a pinyin keep their categories: the archive decides and remembers."""
    from finews_spider.archive.database import ArchiveDatabase

    registry = Registry.load()
    db = ArchiveDatabase(tmp_path / "finews.db")
    with db.transaction():
        earlier = {name: db.slug_for(name, registry) for name in ("青禾日报", "清河日报")}  # met in this order
    assert earlier["青禾日报"] == "qingheribao" and earlier["清河日报"].startswith("qingheribao-")
    db.close()
    again = ArchiveDatabase(tmp_path / "finews.db")
    for name in ("清河日报", "青禾日报"):  # the other order this time
        assert again.slug_for(name, Registry.load()) == earlier[name]
    assert again.slug_for("山西晚报", registry) == "shanxiwanbao"
    again.close()


def test_two_runs_at_once_never_give_one_slug_to_two_papers(tmp_path):
    """Slugs are decided inside the write transaction: a run that opened the archive
    before another recorded a paper still sees that paper's slug as taken."""
    from finews_spider.archive.database import ArchiveDatabase

    first, second = ArchiveDatabase(tmp_path / "finews.db"), ArchiveDatabase(tmp_path / "finews.db")
    with first.transaction():
        a = first.slug_for("青禾日报", Registry.load())
    with second.transaction():
        b = second.slug_for("清河日报", Registry.load())
    assert a == "qingheribao" and b.startswith("qingheribao-")
    assert dict(second.conn.execute("SELECT name, slug FROM newspapers WHERE slug LIKE 'qinghe%'")) == {
        "青禾日报": a, "清河日报": b}
    first.close()
    second.close()
