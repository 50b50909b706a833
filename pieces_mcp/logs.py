"""Logging for people: stderr only, credentials masked, httpx's per-request lines demoted to DEBUG."""

from __future__ import annotations

import logging
import sys
from typing import TextIO


class _MaskingFormatter(logging.Formatter):
    """Masks whatever a line carries, ours or a library's (httpx logs URLs and reason phrases; httpcore, at
    DEBUG, the status line and headers), tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        # Imported at the first line written, not with every start (its patterns take ~2 ms to compile).
        from pieces_mcp.redact import mask_text

        return mask_text(super().format(record))


class _RequestLinesAtDebug(logging.Filter):
    """httpx logs every request at INFO ("HTTP Request: GET … 200 OK"): detail for debugging, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def masking_handler(stream: TextIO) -> logging.Handler:
    """The handler every line goes through: to `stream`, credentials masked (stderr for the program; a file of
    its own for an in-process test server)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def configure_logging(level: str) -> None:
    """stderr at `level`; called once, before the server or a command starts."""
    logging.basicConfig(level=level, handlers=[masking_handler(sys.stderr)])
    # httpx logs on the logger named "httpx" itself (httpx/_client.py), so a filter there sees each line.
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.addFilter(REQUEST_LINES_AT_DEBUG)
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # Below DEBUG nothing of httpx's INFO is shown: skip even making the record, once per request.
        httpx_logger.setLevel(logging.WARNING)


REQUEST_LINES_AT_DEBUG = _RequestLinesAtDebug()
