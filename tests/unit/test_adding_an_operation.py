"""Adding an operation is two hand-edited places, exactly as the README's "Add an operation" recipe says.

The test follows the recipe on a copy of this tree: it declares a throwaway operation the way a real one is
declared (an entry in a toolset's catalog module, a behaviour in that toolset's simulator module), runs the tests
that read the catalog, runs each tool their failures name, runs them again, and then checks every place derived
from the catalog: the tool list, the policy, the schema snapshots, the README's tool table, the simulator's route
and the resources. A fresh interpreter per step, since the point is the edited source as it is imported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "os_settings_throwaway"
PATH = "/os/settings/throwaway"

# Step 1 of the recipe: the entry, in its toolset's catalog module (at the end of its ENDPOINTS).
ENTRY = f'''    Endpoint(
        name="{NAME}",
        title="Read a throwaway setting",
        description="Read PiecesOS's throwaway setting (a test's operation). Read-only.",
        method="GET",
        path="{PATH}",
        arguments=BASE_MODELS.NoArguments,
        answer=SETTINGS_MODELS.OSSettings,
        risk=Risk.READ,
        toolset=TOOLSET,
        wait=Wait.ORDINARY,
        idempotent=True,
        examples=(Example(answer_has=("autoboot",)),),
    ),
'''
# Step 2: its behaviour, in the same toolset's simulator module, named in its BEHAVIOURS.
BEHAVIOUR = f"""async def {NAME}(sim: Simulator, request: Request) -> Response:
    return JSONResponse({{"autoboot": sim.state.autoboot}})


"""
# The tests that read the catalog (the README's recipe names them), here only where they meet the new operation.
CATALOG_TESTS = [
    "tests/unit/test_snapshots.py",
    "tests/unit/test_generated_readme_tables.py",
    "tests/unit/test_catalog_examples.py",
    "tests/unit/test_adapter.py",
    "-k",
    f"{NAME} or test_generated_readme_tables or test_adapter or no_snapshot_is_left",
]
# What the edited tree derives from its catalog, read through its own code.
DERIVED = f"""
import json, anyio, httpx
import pieces_mcp
from mcp import Client
from pieces_mcp.catalog import BY_NAME, TOOLSETS
from pieces_mcp.config import Settings
from pieces_mcp.guard import Policy
from pieces_mcp.mcp_adapter import build_server, tool_listing
from pieces_mcp.simulator import create_app

settings = Settings(base_url="http://127.0.0.1:9", toolsets=frozenset(TOOLSETS))

async def main():
    async with Client(build_server(settings)) as client:
        resources = [str(resource.uri) for resource in (await client.list_resources()).resources]
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator") as http:
        answer = await http.get("{PATH}")
    return resources, answer.status_code, answer.json()

resources, status, answer = anyio.run(main)
print(json.dumps({{
    "package": pieces_mcp.__file__,
    "tools": [tool["name"] for tool in tool_listing(settings)],
    "policy": Policy(settings).describe(BY_NAME["{NAME}"]),
    "read_only_policy": Policy(Settings(read_only=True, toolsets=frozenset(TOOLSETS))).describe(BY_NAME["{NAME}"]),
    "resources": resources,
    "simulator": [status, answer],
}}))
"""


def copy_of_the_tree(target: Path) -> Path:
    for part in ("pieces_mcp", "tools", "tests"):
        shutil.copytree(
            ROOT / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache")
        )
    for name in ("README.md", "pyproject.toml", "server.json", "mcp.json"):
        shutil.copy2(ROOT / name, target / name)
    return target


def run(tree: Path, *command: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy's pieces_mcp, not the editable install's, for scripts in tools/ too.
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *command], cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def add_the_operation(tree: Path) -> None:
    """The recipe's two hand-edited places, written where a person would write them."""
    catalog = tree / "pieces_mcp" / "catalog" / "settings.py"
    source = catalog.read_text(encoding="utf-8")
    assert source.endswith("    ),\n)\n"), "the settings toolset no longer ends with its ENDPOINTS as the recipe says"
    catalog.write_text(source[: -len(")\n")] + ENTRY + ")\n", encoding="utf-8")
    behaviours = tree / "pieces_mcp" / "simulator" / "behaviours" / "settings.py"
    source = behaviours.read_text(encoding="utf-8")
    table = source.index("BEHAVIOURS: Mapping[str, Behaviour] = {")
    assert source.endswith(",\n}\n"), "the settings behaviours no longer end with BEHAVIOURS as the recipe says"
    source = source[:table] + BEHAVIOUR + source[table : -len("}\n")] + f'    "{NAME}": {NAME},\n}}\n'
    behaviours.write_text(source, encoding="utf-8")


def tools_named_by(report: str) -> list[str]:
    """Each `run python tools/X.py` a failing test said to run, once, in the order they were said."""
    return list(dict.fromkeys(re.findall(r"run (python tools/\w+\.py)", report)))


@pytest.mark.timeout(600)
def test_an_operation_added_in_two_places_reaches_every_derived_place(tmp_path: Path) -> None:
    tree = copy_of_the_tree(tmp_path / "tree")
    add_the_operation(tree)

    # Step 3: the tests that read the catalog fail, each saying which tool remakes what it checks.
    first = run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *CATALOG_TESTS)
    assert first.returncode != 0, "adding an operation changed nothing the tests check:\n" + first.stdout[-3000:]
    named = tools_named_by(first.stdout)
    assert named == ["python tools/update_snapshots.py", "python tools/readme_table.py"], first.stdout[-3000:]

    # Step 4: run what they named; then they pass.
    for command in named:
        done = run(tree, *command.split()[1:])
        assert done.returncode == 0, done.stderr
    again = run(tree, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *CATALOG_TESTS)
    assert again.returncode == 0, again.stdout[-3000:]

    # Every derived place has the operation, read through the edited tree's own code.
    derived = run(tree, "-c", DERIVED)
    assert derived.returncode == 0, derived.stderr
    facts = json.loads(derived.stdout)
    assert facts["package"].startswith(str(tree))
    assert NAME in facts["tools"]
    assert facts["policy"] == "runs" and facts["read_only_policy"] == "runs"  # a read tool
    assert f"pieces-os://{NAME}" in facts["resources"]  # a read tool without arguments is a resource
    assert facts["simulator"] == [200, {"autoboot": False}]
    snapshot = json.loads((tree / "tests" / "snapshots" / f"{NAME}.json").read_text(encoding="utf-8"))
    assert snapshot["name"] == NAME and snapshot["annotations"]["readOnlyHint"] is True
    readme = (tree / "README.md").read_text(encoding="utf-8")
    assert (
        f"| `{NAME}` | settings | Read PiecesOS's throwaway setting (a test's operation). | read | no | none |"
        in readme
    )
    # Nothing else was edited by hand: the two places, and what the named tools regenerated.
    changed = {
        str(path.relative_to(tree))
        for path in tree.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and _differs(path, ROOT / path.relative_to(tree))
    }
    assert changed == {
        "pieces_mcp/catalog/settings.py",
        "pieces_mcp/simulator/behaviours/settings.py",
        f"tests/snapshots/{NAME}.json",
        "pieces_mcp/catalog/tool_schemas.json",
        "README.md",
    }


def _differs(copied: Path, original: Path) -> bool:
    return not original.exists() or copied.read_bytes() != original.read_bytes()
