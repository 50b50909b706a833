"""Logging for people: stderr only, httpx's per-request lines demoted to DEBUG."""

from __future__ import annotations

import logging
import sys


class _RequestLinesAtDebug(logging.Filter):
    """httpx logs every request at INFO ("HTTP Request: GET … 200 OK"): detail for debugging, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def configure_logging(level: str) -> None:
    """stderr at `level`; called once, before the server or a command starts."""
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs on the logger named "httpx" itself (httpx/_client.py), so a filter there sees each line.
    logging.getLogger("httpx").addFilter(_RequestLinesAtDebug())
