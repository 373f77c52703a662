"""An execution's output file as a response: streamed from disk, or read from the bucket.

Local outputs go out as a :class:`~starlette.responses.FileResponse`; outputs under an
object-store reports root (``VIGIL_REPORTS_URI=s3://...``) are read whole (they are JSON
documents and one HTML report) and sent with the same headers.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse, Response

from vigil.locations import Location

__all__ = ["output_response"]


def output_response(
    path: Location,
    media_type: str,
    headers: dict[str, str] | None = None,
    download: str | None = None,
) -> Response:
    """``path`` as a response; ``download`` names the file of an attachment."""
    if isinstance(path, Path):
        if download is None:
            return FileResponse(path, media_type=media_type, headers=headers)
        return FileResponse(path, media_type=media_type, headers=headers, filename=download,
                            content_disposition_type="attachment")
    out = dict(headers or {})
    if download is not None:
        out["Content-Disposition"] = f"attachment; filename*=utf-8''{quote(download)}"
    return Response(path.read_bytes(), media_type=media_type, headers=out)
