"""How long `pieces-mcp install` takes on a large, realistic `~/.claude.json`.

Claude Code keeps every project's prompt history in ~/.claude.json, so a long-used one grows to megabytes. This
writes such a file (many projects, each with a history of prompts and pasted contents, in Claude Code's own
layout: one line, as it saves it), then times the whole command, a first install and a re-install, in a fresh
process each, as a person runs it:

    python tools/bench_install.py --megabytes 10

The file is made in a temporary folder and removed; nothing in the real HOME is read or written.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = [
    "the",
    "a",
    "fix",
    "test",
    "add",
    "file",
    "run",
    "why",
    "error",
    "build",
    "config",
    "server",
    "tool",
    "path",
    "check",
    "make",
    "list",
    "read",
    "write",
]


def prompt(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))


def project(rng: random.Random, entries: int) -> dict[str, Any]:
    history = [
        {"display": prompt(rng), "pastedContents": {"1": {"id": 1, "type": "text", "content": prompt(rng)}}}
        if rng.random() < 0.2
        else {"display": prompt(rng), "pastedContents": {}}
        for _ in range(entries)
    ]
    return {
        "allowedTools": [],
        "history": history,
        "mcpContextUris": [],
        "mcpServers": {},
        "enabledMcpjsonServers": [],
        "disabledMcpjsonServers": [],
        "hasTrustDialogAccepted": True,
        "projectOnboardingSeenCount": rng.randint(0, 9),
        "lastCost": round(rng.random() * 3, 6),
        "lastSessionId": f"{rng.getrandbits(128):032x}",
    }


def claude_json(megabytes: float, seed: int = 1) -> str:
    """A ~/.claude.json of about `megabytes` MB, as Claude Code writes it (compact JSON on one line)."""
    rng = random.Random(seed)
    data: dict[str, Any] = {
        "numStartups": 412,
        "installMethod": "npm-global",
        "autoUpdates": False,
        "userID": f"{rng.getrandbits(256):064x}",
        "tipsHistory": {f"tip-{n}": rng.randint(1, 400) for n in range(40)},
        "mcpServers": {
            "github": {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}
        },
        "projects": {},
    }
    size, number = len(json.dumps(data)), 0
    while size < megabytes * 1_000_000:
        entry = project(rng, 100)
        data["projects"][f"/home/person/src/project-{number}"] = entry
        size += len(json.dumps(entry)) + 40
        number += 1
    return json.dumps(data)


def timed_install(config: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pieces_mcp", "install", "--client", "claude-code", "--config", str(config)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"install failed: {done.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=10.0, help="size of the file to make (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / ".claude.json"
        config.write_text(claude_json(args.megabytes), encoding="utf-8")
        size = config.stat().st_size / 1_000_000
        first = timed_install(config)
        again = timed_install(config)
        json.loads(config.read_text(encoding="utf-8"))  # still strict JSON, as Claude Code needs
    print(f"{size:.1f} MB ~/.claude.json: first install {first:.2f} s, re-install {again:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
