"""A PiecesOS simulator: the OS API of the catalog's endpoints, with state and fault injection.

It serves on loopback like the real thing (one of three API generations, `/.well-known/*`), so the MCP
server, its tests and anyone without PiecesOS can run against it. Tests drive it through the
`/_simulator/` control API (see `pieces_mcp.simulator.control`): reset, the call log, state, faults.

Every user profile it hands out carries each of `SECRET_MARKERS` in a credential field; grep
anything a client wrote for them to prove no credential leaked. `picked_files` may be scripted
large (e.g. 20,000 paths, or `{"picked_files_count": 20000}`) to test how clients cope.
"""

from pieces_mcp.simulator.app import create_app
from pieces_mcp.simulator.profiles import SECRET_MARKERS, SIMULATOR_VERSION
from pieces_mcp.simulator.server import RunningSimulator, serve, start_in_thread
from pieces_mcp.simulator.state import REAL_PORTS

__all__ = [
    "REAL_PORTS",
    "SECRET_MARKERS",
    "SIMULATOR_VERSION",
    "RunningSimulator",
    "create_app",
    "serve",
    "start_in_thread",
]
