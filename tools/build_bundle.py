"""Assemble and pack the Claude Desktop extension (an MCP Bundle, `.mcpb`).

The bundle is of the `uv` type (manifest_version 0.4): it carries this project's source and pyproject.toml, and the
host runs it with `uv run`, which installs Python and the dependencies itself; nothing compiled is bundled.

    python tools/build_bundle.py [--out dist]     # writes dist/pieces-mcp-VERSION.mcpb

`mcpb` comes from .tools/ (`npm install --prefix .tools`), pinned by .tools/package-lock.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MCPB = ROOT / ".tools" / "node_modules" / ".bin" / "mcpb"
# What `uv run` needs to build and run the project, and nothing else.
CONTENTS = ("pyproject.toml", "README.md", "LICENSE", "pieces_mcp")


def assemble(folder: Path) -> Path:
    """The bundle's files in `folder`: the manifest plus CONTENTS (no caches, no compiled files)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "bundle" / "manifest.json", folder / "manifest.json")
    for name in CONTENTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, folder / name)
    return folder


def pack(out_dir: Path) -> Path:
    version = json.loads((ROOT / "bundle" / "manifest.json").read_text(encoding="utf-8"))["version"]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"pieces-mcp-{version}.mcpb"
    with tempfile.TemporaryDirectory() as scratch:
        folder = assemble(Path(scratch) / "pieces-mcp")
        subprocess.run([str(MCPB), "validate", str(folder / "manifest.json")], check=True)
        subprocess.run([str(MCPB), "pack", str(folder), str(target)], check=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .mcpb goes (default dist/)")
    args = parser.parse_args()
    if not MCPB.exists():
        print("mcpb is not installed: run `npm install --prefix .tools` first.", file=sys.stderr)
        return 1
    print(pack(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
