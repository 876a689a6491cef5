"""Spider and downloader middlewares: skipping archived articles, retry backoff, WARC
capture and replay."""
