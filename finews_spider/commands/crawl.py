"""``scrapy crawl SPIDER``: archive a newspaper's new articles (one spider per paper, and
``finews`` for all), with an exit status that tells cron how the run went."""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from ..crawling import become_fleet_worker, run_crawl
from . import RUN_EXIT_STATUSES, Help


class Command(Help, ScrapyCrawlCommand):
    description = (
        "Archive the new and changed articles of the spider's newspapers (scrapy list: one spider per "
        "registered paper, and finews for all), or the articles of share links (-a urls=, -a url_file=). "
        "Articles already archived as listed are not fetched again. Every run ends with one summary line, a "
        "crawls row and an exit status that agree."
    )
    examples = (
        "scrapy crawl shanxiwanbao                       # 山西晚报's new articles",
        "scrapy crawl finews -s LOG_FILE=logs/finews.log # every paper (the cron job)",
        "scrapy crawl finews -a urls='http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202112232223130395'",
        "scrapy crawl finews -a since=2021-12-01 -a until=2021-12-31",
        "scrapy crawl finews -s FINEWS_REPLAY=data/sample/upstream.warc.gz  # answered from a recording",
    )
    exit_statuses = RUN_EXIT_STATUSES

    def short_desc(self):
        return "Archive a newspaper's new articles (exit status: 0 ok, 1 failed, 2 usage, 75 locked)"

    def run(self, args, opts):
        assert self.crawler_process is not None  # set by scrapy.cmdline
        if len(args) != 1:
            raise UsageError("give exactly one spider name (see 'scrapy list')")
        become_fleet_worker(self.crawler_process.settings)
        try:
            crawler = self._create_crawler(args[0])
        except KeyError:
            raise UsageError(f"no spider named {args[0]!r} (see 'scrapy list')") from None
        self.exitcode = run_crawl(self.crawler_process, crawler, opts.spargs)
