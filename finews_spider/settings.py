"""Scrapy settings of finews archive. Every project knob is a ``FINEWS_*`` setting, declared
in ``config.py`` (its default is set here from that table); override with ``-s NAME=VALUE``."""

from .config import scrapy_defaults

BOT_NAME = "finews_spider"
SPIDER_MODULES = ["finews_spider.spiders"]
NEWSPIDER_MODULE = "finews_spider.spiders"
COMMANDS_MODULE = "finews_spider.commands"

# --- every FINEWS_* setting: declared once, with its default, parser and doc, in config.py
# (docs/reference/settings.md lists them); override with -s NAME=VALUE.
globals().update(scrapy_defaults())

# --- Scrapy -------------------------------------------------------------------------------
USER_AGENT = "finews-archive/0.1 (+https://github.com/finews-archive; regional newspaper archive)"
ROBOTSTXT_OBEY = False  # a JSON API, not pages; its robots.txt is not served
CONCURRENT_REQUESTS = 8
# Outputs of one response processed in parallel. Scrapy starts this many asyncio tasks per
# response; a text response has one item, so the default 100 costs ~100 tasks an article
# (a fifth of re-extraction's time, measured) for nothing.
CONCURRENT_ITEMS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 20
# A feed of 100 records is about 100 KB and an article's text 5–20 KB: an answer past these
# (its decompressed size too: Scrapy checks it while inflating) is no article; it is dropped
# (finews/dropped/too_large) instead of filling the memory.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 10
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A request that failed its last retry is counted by its errback (and judged in the run
# summary): Scrapy's own "Gave up retrying" line is a warning, not an unexpected error.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # an unattended cron job opens no port
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
LOG_FORMATTER = "finews_spider.logformatter.QuietLogFormatter"

SPIDER_MIDDLEWARES = {
    "finews_spider.middlewares.incremental.SkipArchivedMiddleware": 550,
}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "finews_spider.middlewares.retry.BackoffRetryMiddleware": 550,
    # Before the capture: a feed answered from the feed cache is never sent, nor captured.
    "finews_spider.middlewares.feedcache.FeedCacheMiddleware": 940,
    "finews_spider.middlewares.warc.WarcCaptureMiddleware": 950,
    "finews_spider.middlewares.warc.WarcReplayMiddleware": 960,
}
EXTENSIONS = {
    # The verdict first (it sees the whole run), then the archive: the owner of the data
    # folder, which takes the run lock before anything else starts.
    "finews_spider.extensions.summary.RunSummary": 0,
    "finews_spider.extensions.archive.ArchiveExtension": 1,
}
ITEM_PIPELINES = {
    "finews_spider.pipelines.validate.ValidatePipeline": 100,
    "finews_spider.pipelines.clean.CleanPipeline": 200,
    "finews_spider.pipelines.publish.PublishPipeline": 500,
}
