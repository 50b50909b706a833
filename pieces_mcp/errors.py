"""Failures a model or a person can act on. Each message is one plain sentence: what happened, what to do."""

from __future__ import annotations

import re


class PiecesError(Exception):
    """Base of every failure that becomes a tool result with `isError: true`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotRunning(PiecesError):
    """Nothing answered where PiecesOS should be."""


class TimedOut(PiecesError):
    """PiecesOS took longer than the configured limit."""


class ConnectionLost(PiecesError):
    """The connection closed before PiecesOS answered."""


class BadStatus(PiecesError):
    """PiecesOS answered with a 4xx or 5xx status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class BadAnswer(PiecesError):
    """PiecesOS answered, but not with what its API promises (not JSON, wrong shape, too large)."""


_SECRET_LOOKING = re.compile(r"\b(?:sk|pk|rk|ghp|gho|xox[abp])[-_][A-Za-z0-9_\-]{6,}|[A-Za-z0-9+/_\-]{32,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def quote_detail(text: str, limit: int = 200) -> str:
    """PiecesOS's own error text, made safe to show: one line, cut short, anything key-like masked."""
    text = _CONTROL.sub(" ", text).strip()
    text = _SECRET_LOOKING.sub("[redacted]", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
