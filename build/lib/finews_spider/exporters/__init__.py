"""Where articles end up: Jekyll posts (``jekyll``) and the SQLite archive (``sqlite``)."""
