"""What each catalog operation does in the simulator, one module per toolset beside the catalog's.

`create_app` refuses to start if a catalog entry has no behaviour here, so adding an endpoint to the
catalog without teaching the simulator fails loudly.
"""

from collections.abc import Mapping

from pieces_mcp.simulator.behaviours import files, local_models, os_tools, process, settings, user
from pieces_mcp.simulator.behaviours.base import Behaviour

BEHAVIOURS: Mapping[str, Behaviour] = {
    name: behaviour
    for module in (os_tools, files, settings, process, local_models, user)
    for name, behaviour in module.BEHAVIOURS.items()
}
