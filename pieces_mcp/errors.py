"""Failures a model or a person can act on. Each message is one plain sentence: what happened, what to do.

    PiecesError                 every failure that becomes a tool result with `isError: true`
    ├── NotRunningError         nothing answered where PiecesOS should be
    ├── TimedOutError           past the call's limit (--timeout, --interactive-timeout)
    ├── ConnectionLostError     the connection closed before the answer
    ├── BadStatusError          a 4xx or 5xx (`.status`)
    └── BadAnswerError          an answer that is not what the API promises

Beside the tree, failures that are not PiecesOS's: `config.ConfigError` (a setting to fix; the server does not
start), `dispatch.UnknownToolError` (a JSON-RPC error, -32602) and `install.errors.InstallError`.
"""

from __future__ import annotations


class PiecesError(Exception):
    """Base of every failure that becomes a tool result with `isError: true`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotRunningError(PiecesError):
    """Nothing answered where PiecesOS should be."""


class TimedOutError(PiecesError):
    """PiecesOS took longer than the configured limit."""


class ConnectionLostError(PiecesError):
    """The connection closed before PiecesOS answered."""


class BadStatusError(PiecesError):
    """PiecesOS answered with a 4xx or 5xx status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AbsentOperationError(BadStatusError):
    """This PiecesOS is of a generation without the operation: every path it had answered 404."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


class BadAnswerError(PiecesError):
    """PiecesOS answered, but not with what its API promises (not JSON, wrong shape, too large)."""


def quote_detail(text: str, limit: int = 200) -> str:
    """PiecesOS's own text (a body, a reason phrase), made safe to show: one line, cut short, credentials masked."""
    from pieces_mcp.redact import quote  # with the first error, not with every start (`logs.py` says why)

    return quote(text, limit)
