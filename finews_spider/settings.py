"""Scrapy settings of finews archive. Every project knob is a ``FINEWS_*`` setting with
its default here and a line in the README; override with ``-s NAME=VALUE``."""

BOT_NAME = "finews_spider"
SPIDER_MODULES = ["finews_spider.spiders"]
NEWSPIDER_MODULE = "finews_spider.spiders"
COMMANDS_MODULE = "finews_spider.commands"

# --- the upstream service (docs/upstream.md) ------------------------------------------
FINEWS_FEED_URL = "http://43.240.125.15:1818/information/newmarket/web/webapi"
FINEWS_TEXT_URL = "http://finews.zning.xyz/NewsData/GetNewsText.do"
# The public link written into every post: never where a crawl fetched its bytes from.
FINEWS_SHARE_URL = "http://finews.zning.xyz/html_News/NewsShare.html"
FINEWS_MARKET_TYPES = [37, 38, 39]
FINEWS_FEED_COUNT = 100
# Seconds a feed fetched by any run on this data folder answers the others (0: off).
FINEWS_FEED_TTL = 60

# --- the archive ------------------------------------------------------------------------
FINEWS_DATA_DIR = "data"
FINEWS_DB_NAME = "finews.db"
FINEWS_EXPORTERS = ["jekyll", "sqlite"]
# What the data folder holds besides the database, each written by one sink after the
# archive's batches (archive/sinks.py); a sink is off when its settings say so.
FINEWS_SINKS = {
    "posts": "finews_spider.archive.sinks.PostsSink",
    "feeds": "finews_spider.archive.sinks.FeedsSink",
    "site": "finews_spider.site.sink.SiteSink",
}
FINEWS_SITE_URL = "//finews.withounder.com"
FINEWS_SITE_DIR = None  # the reading site (scrapy site DIR); when set, runs update it after each batch
FINEWS_SQLITE_BATCH_SIZE = 200  # articles per database commit, at most ...
FINEWS_SQLITE_BATCH_SECONDS = 1.0  # ... and seconds an open batch may wait

# --- scheduled runs -----------------------------------------------------------------------
FINEWS_REFRESH = False  # re-fetch articles that are already archived
FINEWS_RECHECK_HOURS = 0  # re-fetch archived articles published less than N hours ago
FINEWS_MAX_ERROR_RATIO = 0.0  # share of articles whose fetch may fail in a run that still says ok
FINEWS_LOCK = True  # one run per spider and data directory at a time
FINEWS_LOCK_NAME = None  # the lock's name; default: the spider's name
FINEWS_RETRY_BACKOFF_BASE = 1.0  # seconds; retry n waits base * 2**(n-1) ...
FINEWS_RETRY_BACKOFF_MAX = 30.0  # ... at most this long

# --- many machines (README "Many machines") ---------------------------------------------
FINEWS_REDIS_URL = None  # redis://host:6379/0: `scrapy crawl` becomes a worker of the fleet
FINEWS_FLEET_CONCURRENCY_PER_HOST = 2  # requests in flight to one upstream host, all workers together
FINEWS_FLEET_DELAY = 0.0  # seconds between two requests to one host, all workers together

# --- between processes (set by `scrapy reextract` for its workers; not for users) -------
FINEWS_RUN_REPORT = None  # write the run's stats as JSON to this file at the end
FINEWS_RECORD_CRAWL = True  # write the run's crawls row (the reextract command writes one for all)
FINEWS_FLEET_WORKER = False  # set by `scrapy crawl` when FINEWS_REDIS_URL is set

# --- raw capture and replay (WARC) --------------------------------------------------------
FINEWS_WARC_CAPTURE = True
FINEWS_WARC_DIR = None  # default: <FINEWS_DATA_DIR>/warc
FINEWS_WARC_MAX_BYTES = 256 * 1024 * 1024
FINEWS_REPLAY = None  # a WARC file or folder: answer every request from it

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
