"""The archive: the one owner of the data folder.

- :mod:`.core`: :class:`Archive`, the storage core: the lock, the database, the order in
  which a batch is recorded, and the sinks it feeds;
- :mod:`.database`: :class:`ArchiveDatabase`, the SQLite database (schema, migrations,
  upserts, revisions, the search index, mentions);
- :mod:`.sinks`: the files beside the database (posts and category pages, Atom feeds);
- :mod:`.feedcache`: the feed cache shared by the runs on one data folder;
- :mod:`.importer`: recording the posts of an existing Jekyll archive;
- :mod:`.lock`: the run lock.

In a crawl it is opened by ``extensions.archive.ArchiveExtension``; commands open it with
``Archive(config, lock_name=...)``. Nothing else writes in the data folder; read-only
connections for search, the site and exports come from :func:`open_read_only`.
"""

from ..exceptions import ArchiveDamaged
from .core import Archive
from .database import ArchiveDatabase, open_read_only

__all__ = ["Archive", "ArchiveDamaged", "ArchiveDatabase", "open_read_only"]
