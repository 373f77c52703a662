"""One meaning of a capture location for writers and readers.

A location is a local path, a ``file://`` URL or another fsspec URL (``s3://``,
``memory://``). ``file:///x`` and ``file://localhost/x`` are the local path ``/x``
everywhere: the capture writer, HTTP ingestion and the window reader all go through
:func:`local_path`, so what one writes the other reads. Both functions live in
:mod:`vigil.locations`, which every floor shares.

>>> local_path("file:///srv/capture"), local_path("/srv/capture"), local_path("s3://b/c")
(PosixPath('/srv/capture'), PosixPath('/srv/capture'), None)
>>> local_path("file://localhost/srv/a%20b")
PosixPath('/srv/a b')
>>> join_location("file:///srv/capture", "churn", "AllTraffic"), join_location("s3://b/c/", "e")
('/srv/capture/churn/AllTraffic', 's3://b/c/e')
"""

from __future__ import annotations

from vigil.locations import join_location, local_path

__all__ = ["join_location", "local_path"]
