"""How a call goes over the wire: the exchanges catalog entries name, on top of one connection to PiecesOS.

    connection.py   where PiecesOS is, its API generation, one HTTP request (`Connection`, `http_client`)
    translate.py    the one translator of HTTP and WebSocket failures into `errors.py`'s errors
    streams.py      WebSockets: opening one, reading a file as a stream
    download.py     following an update's download on the update stream
    launch.py       opening pieces://launch through the OS
    kinds.py        the exchange objects (`EXCHANGES`), one per `catalog.Exchange`

Below the client: nothing here imports `client.py`, `live.py` or `dispatch.py`.
"""

from __future__ import annotations

from pieces_mcp.exchanges.connection import Connection, Reply, http_client
from pieces_mcp.exchanges.kinds import EXCHANGES, Call

__all__ = ["EXCHANGES", "Call", "Connection", "Reply", "http_client"]
