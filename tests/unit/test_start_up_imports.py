"""What a session imports before it answers `initialize` and `tools/list` (issue 22): only what it uses.

A fresh interpreter imports the server module as `serve` does, builds the server for some toolsets, and
lists tools and resources through the SDK's in-memory client; then its `sys.modules` is read. The chosen
toolsets' models are there, no other toolset's, and none of `websockets`, the desktop dialog, `install` or
the simulator. The version string costs no `importlib.metadata` look-up (about 51 ms at every start).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pieces_mcp.catalog import CATALOG, DEFAULT_TOOLSETS, LIVE, TOOLSETS, ModelRef

# Needed by almost no session, so never imported before one is used (issue 22).
UNUSED_AT_START = ("websockets", "pieces_mcp.desktop", "pieces_mcp.install", "pieces_mcp.simulator")

PROBE = """
import importlib.metadata, json, sys

looked_up = []
from_name = importlib.metadata.Distribution.from_name.__func__

def recording(cls, name):
    looked_up.append(name)
    return from_name(cls, name)

importlib.metadata.Distribution.from_name = classmethod(recording)

import anyio
from mcp import Client

import pieces_mcp.cli  # what `pieces-mcp serve` imports first
from pieces_mcp.config import load
from pieces_mcp.mcp_adapter import build_server  # the server module


async def session() -> None:
    async with Client(build_server(load(None, {"PIECES_MCP_TOOLSETS": sys.argv[1]}))) as client:
        await client.list_tools()
        await client.list_resources()


anyio.run(session)
print(json.dumps({"modules": sorted(sys.modules), "looked_up": looked_up}))
"""


def _model_modules(toolsets: set[str]) -> set[str]:
    refs = [ref for entry in CATALOG if entry.toolset in toolsets for ref in (entry.arguments, entry.answer)]
    refs += [stream.answer for stream in LIVE if stream.toolset in toolsets]
    return {ref.module for ref in refs if isinstance(ref, ModelRef)}


CHOICES = [",".join(sorted(DEFAULT_TOOLSETS)), *(name for name in TOOLSETS if name not in DEFAULT_TOOLSETS), "all"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("choice", CHOICES)
def test_a_session_imports_only_what_its_toolsets_use(choice: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, choice], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    modules = set(seen["modules"])
    chosen = set(TOOLSETS) if choice == "all" else set(choice.split(","))
    wanted = _model_modules(chosen)
    unwanted = _model_modules(set(TOOLSETS) - chosen) - wanted
    assert wanted <= modules, f"the models of --toolsets {choice} were not built for tools/list"
    leaked = sorted(unwanted & modules)
    assert not leaked, f"--toolsets {choice} imported other toolsets' models: {leaked}"
    early = sorted(
        name for name in modules if name.split(".")[0] in UNUSED_AT_START or name.startswith(UNUSED_AT_START)
    )
    assert not early, f"imported before any session used them: {early}"
    assert "pieces-mcp" not in seen["looked_up"], "the version string was read from importlib.metadata at start"


def test_the_version_constant_is_the_installed_one() -> None:
    from importlib.metadata import version

    import pieces_mcp

    assert pieces_mcp.__version__ == version("pieces-mcp"), "pieces_mcp.__version__ must match pyproject.toml"
