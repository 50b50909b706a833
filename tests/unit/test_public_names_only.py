"""pieces-mcp uses only the documented names of its libraries: an SDK minor release must not break it."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pieces_mcp"
OWN = "pieces_mcp"
# Public-looking but undocumented names this project once leaned on (issue 11): never again.
UNDOCUMENTED = frozenset(
    {"FlowControlMixin", "StreamReaderProtocol", "H11Protocol", "capture_signals", "server_state", "fn_metadata",
     "ArgModelBase", "model_dump_one_level", "pre_parse_json"}
)  # fmt: skip


def private_uses(source: str) -> list[str]:
    """Underscore names reached in another package: imported from it, or as attributes of a module imported from it."""
    tree = ast.parse(source)
    modules: set[str] = set()  # local names bound to a library module or object
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith(OWN):
                    modules.add((alias.asname or alias.name).split(".")[0])
                    if any(part.startswith("_") for part in alias.name.split(".")):
                        found.append(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(OWN) and node.level == 0:
            if node.module != "__future__" and any(part.startswith("_") for part in node.module.split(".")):
                found.append(node.module)
            for alias in node.names:
                modules.add(alias.asname or alias.name)
                if alias.name.startswith("_"):
                    found.append(f"{node.module}.{alias.name}")
    for node in ast.walk(tree):
        private = isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        if private and isinstance(node.value, ast.Name) and node.value.id in modules:  # type: ignore[attr-defined]
            found.append(f"{node.value.id}.{node.attr}")  # type: ignore[attr-defined]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "._" in node.value:
            head, _, tail = node.value.partition("._")  # e.g. sys.modules["httpx._main"]
            if head.isidentifier() and tail.isidentifier() and head != OWN and importlib.util.find_spec(head):
                found.append(node.value)
        named = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if named in UNDOCUMENTED:
            found.append(named)
        if isinstance(node, ast.alias) and node.name.split(".")[-1] in UNDOCUMENTED:
            found.append(node.name)
    return found


# The one sanctioned gap: uvicorn has no bound on the time to send request headers, so header_deadline.py
# extends its h11 protocol class (its docstring says why; tests/e2e/test_http_transport.py pins the behaviour).
SANCTIONED = {"header_deadline.py": ["H11Protocol", "uvicorn.protocols.http.h11_impl.H11Protocol"]}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_private_name_of_a_library(path: Path) -> None:
    allowed = SANCTIONED.get(str(path.relative_to(PACKAGE)), [])
    assert [name for name in private_uses(path.read_text(encoding="utf-8")) if name not in allowed] == []


def test_the_check_finds_each_kind_of_private_use() -> None:
    source = (
        "import asyncio\nimport sys\nfrom mcp.shared._stream_protocols import ReadStream\n"
        "from mcp.server.mcpserver.utilities.func_metadata import _hidden\n"
        "class P(asyncio.streams.FlowControlMixin): pass\nx = asyncio._get_running_loop()\n"
        'sys.modules.setdefault("httpx._main", None)\nfrom uvicorn.protocols.http.h11_impl import H11Protocol\n'
    )
    assert sorted(private_uses(source)) == sorted(
        [
            "mcp.shared._stream_protocols",
            "mcp.server.mcpserver.utilities.func_metadata._hidden",
            "asyncio._get_running_loop",
            "FlowControlMixin",
            "httpx._main",
            "H11Protocol",
        ]
    )
