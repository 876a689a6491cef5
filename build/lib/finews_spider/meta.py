"""Request meta keys and response flags: what one component tells another about a request.

Each key is read by one component (its owner, named below) and set by others; both sides
import it from here, so no component imports another for a string.
"""

from __future__ import annotations

#: When the response was fetched (an aware datetime). Read by the spider
#: (``FinewsSpider.parse_text``: the article's ``fetched_at``); set by the WARC capture to
#: the capture time and by replay to the captured time, so a replay writes the same rows.
#: Absent: "now".
FETCHED_AT = "finews_fetched_at"

#: The feed record (a dict with ``info_code``, ``title`` and ``datetime`` as listed) of a
#: text request that is not needed when the archive holds that article with this title
#: and date. Read by ``middlewares.incremental.SkipArchivedMiddleware``; set by spiders on
#: the text request of a listed article. A request without it (a feed, a share URL asked
#: for by name) is always sent.
SKIP_IF_ARCHIVED = "finews_skip_if_archived"

#: The location ``(file number, offset)`` in the replay index of the capture that must
#: answer this request, instead of the latest good capture of its URL. Read by
#: ``middlewares.warc.WarcReplayMiddleware``; set by the re-extraction spider, which reads
#: every captured feed, not only the latest.
REPLAY_CAPTURE = "finews_replay_capture"

#: The ``time.monotonic()`` before which the request must not be sent. Read, and set on
#: retries, by ``middlewares.retry.BackoffRetryMiddleware``.
NOT_BEFORE = "finews_retry_not_before"

#: Response flag of a feed answered from the feed cache: set by
#: ``middlewares.feedcache.FeedCacheMiddleware``; the WARC capture leaves such responses
#: out (they are no new capture).
CACHED_FLAG = "finews-feed-cache"
