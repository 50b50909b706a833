"""What each OS endpoint does in the simulator, one module per toolset beside the catalog's."""

from pieces_mcp.simulator.behaviours.files import MORE_BEHAVIOURS
from pieces_mcp.simulator.behaviours.os_tools import BEHAVIOURS as SEED_BEHAVIOURS

BEHAVIOURS = {**SEED_BEHAVIOURS, **MORE_BEHAVIOURS}
