import csv
from collections import defaultdict
from pathlib import Path

import pytest
from pypinyin import Style, pinyin

from finews_spider.registry import Newspaper, Registry, slugify

REAL = Path(__file__).parent / "fixtures" / "real"
AMBIGUOUS = {
    "fuzhouribao": {"福州日报", "抚州日报"},
    "shanxiribao": {"山西日报", "陕西日报"},
    "taizhouribao": {"台州日报", "泰州日报"},
}

# Every registered name with a character pypinyin knows several readings of, and the slug
# checked by hand (place names read as places are read: 重庆 chongqing, 厦门 xiamen, 漯河
# luohe, 济南 jinan, 长沙 changsha, 台州 taizhou, 成都 chengdu, 石家庄 shijiazhuang, …).
# A new row with such a character must be checked and added here.
HAND_CHECKED = {
    "阿克苏地区融媒体中心": "akesudiqurongmeitizhongxin",
    "半岛都市报": "bandaodushibao",
    "包头日报": "baotouribao",
    "北京青年报": "beijingqingnianbao",
    "长春日报": "changchunribao",
    "长江日报": "changjiangribao",
    "长沙晚报": "changshawanbao",
    "成都日报": "chengduribao",
    "成都商报": "chengdushangbao",
    "重庆晨报": "chongqingchenbao",
    "重庆日报": "chongqingribao",
    "重庆商报": "chongqingshangbao",
    "重庆晚报": "chongqingwanbao",
    "楚天都市报": "chutiandushibao",
    "大河报": "dahebao",
    "大众日报": "dazhongribao",
    "东方今报": "dongfangjinbao",
    "东南早报": "dongnanzaobao",
    "赣南日报": "gannanribao",
    "甘肃日报": "gansuribao",
    "广西日报": "guangxiribao",
    "广州日报": "guangzhouribao",
    "海南日报": "hainanribao",
    "海南特区报": "hainantequbao",
    "杭州日报": "hangzhouribao",
    "合肥日报": "hefeiribao",
    "合肥晚报": "hefeiwanbao",
    "河南日报": "henanribao",
    "华西都市报": "huaxidushibao",
    "华商报": "huashangbao",
    "新华日报": "xinhuaribao",
    "湖南日报": "hunanribao",
    "解放日报": "jiefangribao",
    "济南日报": "jinanribao",
    "济南时报": "jinanshibao",
    "昆明日报": "kunmingribao",
    "辽宁日报": "liaoningribao",
    "临沂日报": "linyiribao",
    "漯河日报": "luoheribao",
    "南昌日报": "nanchangribao",
    "南方都市报": "nanfangdushibao",
    "南方日报": "nanfangribao",
    "南国都市报": "nanguodushibao",
    "南京晨报": "nanjingchenbao",
    "南宁日报": "nanningribao",
    "南宁晚报": "nanningwanbao",
    "南通日报": "nantongribao",
    "内蒙古日报": "neimengguribao",
    "宁波日报": "ningboribao",
    "宁夏日报": "ningxiaribao",
    "齐鲁晚报": "qiluwanbao",
    "青岛日报": "qingdaoribao",
    "青海日报": "qinghairibao",
    "三秦都市报": "sanqindushibao",
    "沈阳日报": "shenyangribao",
    "沈阳晚报": "shenyangwanbao",
    "深圳商报": "shenzhenshangbao",
    "深圳特区报": "shenzhentequbao",
    "石家庄日报": "shijiazhuangribao",
    "太原日报": "taiyuanribao",
    "太原晚报": "taiyuanwanbao",
    "台州日报": "taizhouribao",
    "泰州日报": "jiangsutaizhouribao",
    "温州日报": "wenzhouribao",
    "厦门日报": "xiamenribao",
    "厦门晚报": "xiamenwanbao",
    "西海都市报": "xihaidushibao",
    "西宁晚报": "xiningwanbao",
    "信息时报": "xinxishibao",
    "西藏日报": "xizangribao",
    "烟台日报": "yantairibao",
    "燕赵都市报": "yanzhaodushibao",
    "云南日报": "yunnanribao",
    "陕西日报": "shaanxiribao",
    "福州日报": "fuzhouribao",
    "抚州日报": "jiangxifuzhouribao",
    "福建日报": "fujianribao",
    "嘉兴日报": "jiaxingribao",
    "金陵晚报": "jinlingwanbao",
    "九江日报": "jiujiangribao",
    "上饶日报": "shangraoribao",
    "春城晚报": "chunchengwanbao",
    "张掖日报": "zhangyeribao",
    "扬子晚报": "yangziwanbao",
}


def real_papers() -> list[dict]:
    with open(REAL / "regional-papers.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_registry_has_every_real_regional_paper_and_the_earlier_ones():
    registry = Registry.load()
    assert len(registry.papers) >= 130
    for row in real_papers():
        for name in row["name"].split("/"):
            assert name in registry.by_name, name
    for name in (
        "山西经济日报",
        "华商报",
        "大河报",
        "燕赵都市报",
        "楚天都市报",
        "浙江日报",
        "重庆日报",
        "福建日报",
        "新民晚报",
    ):
        assert name in registry.by_name, name


def test_slugs_and_names_are_unique_and_slugs_are_safe():
    papers = Registry.load().papers
    assert len({p.slug for p in papers}) == len(papers)
    assert len({p.name for p in papers}) == len(papers)
    for paper in papers:
        assert paper.slug.isascii() and paper.slug.isalnum() and paper.slug.islower(), paper


def test_every_slug_is_the_names_pinyin_unless_the_row_says_why():
    for paper in Registry.load().papers:
        if paper.slug_note:
            assert paper.slug != slugify(paper.name), f"{paper.name}: slug_note but plain slug"
            assert paper.name in paper.slug_note
        else:
            assert paper.slug == slugify(paper.name), paper


def test_names_with_the_same_pinyin_are_told_apart_and_the_row_says_how():
    by_pinyin = defaultdict(list)
    for paper in Registry.load().papers:
        by_pinyin[slugify(paper.name)].append(paper)
    collisions = {k: v for k, v in by_pinyin.items() if len(v) > 1}
    assert set(collisions) == {"fuzhouribao", "taizhouribao"}  # 山西/陕西 differ by the spelling table
    for pinyin_slug, papers in collisions.items():
        plain = [p for p in papers if p.slug == pinyin_slug]
        assert len(plain) == 1, papers
        assert all(p.slug_note for p in papers if p not in plain)


def test_polyphonic_readings_were_checked_by_hand():
    registry = Registry.load()
    for paper in registry.papers:
        if any(len(set(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])) > 1 for ch in paper.name):
            assert paper.name in HAND_CHECKED, f"{paper.name} ({paper.slug}): check its reading and add it"
    for name, slug in HAND_CHECKED.items():
        assert registry.by_name[name].slug == slug, name


@pytest.mark.parametrize(
    "name, slug",
    [
        ("重庆日报", "chongqingribao"),
        ("厦门日报", "xiamenribao"),
        ("西藏日报", "xizangribao"),
        ("漯河日报", "luoheribao"),
        ("陕西日报", "shaanxiribao"),
        ("山西日报", "shanxiribao"),
        ("重庆晨报", "chongqingchenbao"),
        ("长沙晚报", "changshawanbao"),
    ],
)
def test_slugs_are_correct_pinyin_not_the_old_sites(name, slug):
    assert slugify(name) == slug
    assert Registry.load().by_name[name].slug == slug


def test_every_old_slug_leads_to_its_papers():
    registry = Registry.load()
    for row in real_papers():
        papers = registry.by_legacy_slug.get(row["old_slug"], [])
        assert {p.name for p in papers} == set(row["name"].split("/")), row["old_slug"]
    assert [p.slug for p in registry.by_legacy_slug["taheribao"]] == ["luoheribao"]
    assert [p.slug for p in registry.by_legacy_slug["zhongqingchenbao"]] == ["chongqingchenbao"]
    assert registry.by_name["厦门日报"].legacy_slug == "shamenribao"
    assert registry.by_name["山西晚报"].legacy_slug == ""  # the same as its slug
    assert "shaanxiribao" not in registry.by_legacy_slug  # the old site never had it


def test_ambiguous_old_slugs_name_two_registered_papers_each():
    registry = Registry.load()
    for old_slug, names in AMBIGUOUS.items():
        papers = registry.by_legacy_slug[old_slug]
        assert {p.name for p in papers} == names
        assert len({p.slug for p in papers}) == 2
        assert old_slug in {p.slug for p in papers}  # one of the two keeps it
    assert {p.province for p in registry.by_legacy_slug["fuzhouribao"]} == {"福建", "江西"}
    assert registry.by_name["泰州日报"].province == "江苏" and registry.by_name["台州日报"].province == "浙江"


def test_rows_carry_province_city_and_kind():
    registry = Registry.load()
    kinds = {
        "日报",
        "晚报",
        "都市报",
        "晨报",
        "商报",
        "早报",
        "时报",
        "快报",
        "今报",
        "特区报",
        "青年报",
        "经济报",
        "网站",
        "融媒体",
    }
    for paper in registry.papers:
        assert paper.province and paper.kind in kinds, paper
    real = {n: row for row in real_papers() for n in row["name"].split("/") if row["evidence"] != "ambiguous"}
    for name, row in real.items():
        paper = registry.by_name[name]
        assert (paper.province, paper.city) == (row["province"], row["city"]), name
    assert (registry.by_name["山西晚报"].province, registry.by_name["山西晚报"].city) == ("山西", "")
    assert (registry.by_name["太原日报"].province, registry.by_name["太原日报"].city) == ("山西", "太原")
    assert registry.by_name["北京晚报"].province == "北京"
    # Provinces are provinces (31 in mainland China at most), never a city's name joined to one.
    provinces = {paper.province for paper in registry.papers}
    assert len(provinces) <= 31 and "山西" in provinces and not any(p.endswith(("太原", "合肥")) for p in provinces)
    assert registry.by_name["华商报"].kind == "都市报"


def test_registry_rejects_a_file_without_its_columns(tmp_path):
    path = tmp_path / "papers.csv"
    path.write_text("slug,region\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        Registry.load(path)


def test_duplicate_slug_is_refused():
    with pytest.raises(ValueError, match="duplicate"):
        Registry([Newspaper("fuzhouribao", "福州日报"), Newspaper("fuzhouribao", "抚州日报")])


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


@pytest.mark.slow
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
        "青禾日报": a,
        "清河日报": b,
    }
    first.close()
    second.close()


def test_the_real_tsv_is_the_old_archives_when_shared_is_present():
    shared = Path(__file__).resolve().parents[2] / "shared" / "real" / "regional-papers.tsv"
    if not shared.exists():
        pytest.skip("no shared/ beside this checkout")
    assert (REAL / "regional-papers.tsv").read_bytes() == shared.read_bytes()
