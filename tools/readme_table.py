"""Regenerate the README's tool table and configuration table from the catalog and the settings.

python tools/readme_table.py          # rewrite README.md
python tools/readme_table.py --check  # exit 1 when README.md is out of date (CI)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pieces_mcp.catalog import CATALOG
from pieces_mcp.config import flag_of, help_of, options

README = Path(__file__).resolve().parent.parent / "README.md"


def tool_table() -> str:
    rows = ["| tool | set | what it does | risk | waits for a person | arguments |", "|---|---|---|---|---|---|"]
    for endpoint in CATALOG:
        fields = ", ".join(f"`{name}`" for name in endpoint.input_model.model_fields) or "none"
        first_sentence = endpoint.description.split(". ")[0].rstrip(".") + "."
        waits = "yes" if endpoint.wait.value == "interactive" else "no"
        risk = endpoint.risk.value
        rows.append(f"| `{endpoint.name}` | {endpoint.toolset} | {first_sentence} | {risk} | {waits} | {fields} |")
    return "\n".join(rows)


def config_table() -> str:
    rows = ["| flag | environment | meaning |", "|---|---|---|"]
    for name, option in options():
        rows.append(f"| `{flag_of(name)}` | `{option.env}` | {help_of(name, option)} |")
    return "\n".join(rows)


def render(text: str) -> str:
    for name, table in (("tools", tool_table()), ("config", config_table())):
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
        match = pattern.search(text)
        if match is None:
            raise SystemExit(f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> section")
        text = text[: match.end(1)] + table + "\n" + text[match.start(2) :]
    return text


def main() -> int:
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in sys.argv[1:]:
        if current != wanted:
            print("README.md tables are out of date: run python tools/readme_table.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
