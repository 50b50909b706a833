"""The believable data the simulator answers with: one device, one user, planted secrets.

JSON names are PiecesOS's wire names (see `tools/pieces-os-api/models.json`), so the vendor's own client
parses every answer. Every user profile carries each of `SECRET_MARKERS` in a credential field, so a
test can grep everything the MCP server wrote and prove no credential leaked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from zlib import crc32

from pieces_mcp.catalog.generations import Generation

SIMULATOR_VERSION = "12.3.4-simulator"
# The version each generation's simulated PiecesOS reports: the last of its line, for the older ones.
SIMULATED_VERSIONS: Mapping[Generation, str] = {
    "seed": "9.0.5-simulator",
    "v10": "10.1.15-simulator",
    "current": SIMULATOR_VERSION,
}
INSTALLATION_PATH = "/opt/pieces-os/simulator"

API_KEY_SECRET = "sk-SIMSECRET-apikey-1f9c"
AUTH0_OPENAI_KEY_SECRET = "sk-SIMSECRET-auth0-openai-2b7d"
AUTH0_OPENAI_ORG_SECRET = "org-SIMSECRET-auth0-org-3c8e"
AUTH0_CLOUD_KEY_SECRET = "ck-SIMSECRET-cloud-key-4d9f"
AUTH0_STRIPE_SECRET = "cus_SIMSECRET-stripe-5e0a"
DESCOPE_OPENAI_KEY_SECRET = "sk-SIMSECRET-descope-openai-6f1b"
DESCOPE_OPENAI_ORG_SECRET = "org-SIMSECRET-descope-org-7a2c"
# Every provider's access token starts with this, followed by the provider type.
PROVIDER_TOKEN_SECRET = "tok-SIMSECRET-provider-token-8b3d"

SECRET_MARKERS: tuple[str, ...] = (
    API_KEY_SECRET,
    AUTH0_OPENAI_KEY_SECRET,
    AUTH0_OPENAI_ORG_SECRET,
    AUTH0_CLOUD_KEY_SECRET,
    AUTH0_STRIPE_SECRET,
    DESCOPE_OPENAI_KEY_SECRET,
    DESCOPE_OPENAI_ORG_SECRET,
    PROVIDER_TOKEN_SECRET,
)

USER_ID = "6f2c3f0e-9a4b-4c1d-8e7f-0a1b2c3d4e5f"
GLOBAL_ID = "auth0|6512a3b4c5d6e7f8a9b0c1d2"
DEFAULT_PROVIDERS: tuple[str, ...] = ("google-oauth2",)
# Social logins per Auth0; the others are enterprise or database connections.
_NOT_SOCIAL = frozenset({"waad", "username_email"})

HOME = "/home/ada"
DEFAULT_PICKED_FILES: tuple[str, ...] = (
    f"{HOME}/projects/pieces-demo/README.md",
    f"{HOME}/projects/pieces-demo/src/main.py",
)
DEFAULT_PICKED_FOLDERS: tuple[str, ...] = (f"{HOME}/projects/pieces-demo",)


def sample_paths(count: int, root: str = f"{HOME}/projects/monorepo") -> list[str]:
    """`count` distinct, plausible file paths: for scripting a picker that returns a huge selection."""
    return [f"{root}/pkg{index // 100:04d}/module_{index:05d}.py" for index in range(count)]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def grouped_timestamp(moment: datetime) -> dict[str, Any]:
    """`GroupedTimestamp`: the ISO value and the kind of text PiecesOS shows a person."""
    return {"value": iso(moment), "readable": moment.astimezone(timezone.utc).strftime("%B %d, %Y at %H:%M UTC")}


_CPU: dict[str, Any] = {
    "name": "AMD EPYC 9124 16-Core Processor",
    "cores": 16,
    "clock_cycle_speed": 4500,
    "l1_cache": 1024,
    "l2_cache": 16384,
    "l3_cache": 65536,
    "shared_memory": False,
}


def next_version(version: str) -> str:
    """The version after an update: "12.3.4-simulator" -> "12.3.5-simulator"."""
    number, _, suffix = version.partition("-")
    parts = number.split(".")
    parts[-1] = str(int(parts[-1]) + 1) if parts[-1].isdigit() else parts[-1] + ".1"
    return ".".join(parts) + (f"-{suffix}" if suffix else "")


def device_information(version: str = SIMULATOR_VERSION) -> dict[str, Any]:
    """Today's `OSDeviceInformationReturnable` of a plausible developer workstation."""
    return {
        "name": "ada-workstation",
        "version": version,
        "hardware": {
            # A dual-socket machine: PiecesOS lists one entry per physical CPU.
            "cpus": [dict(_CPU), dict(_CPU)],
            "gpus": [
                {
                    "name": "NVIDIA GeForce RTX 4070",
                    "memory": 12282,
                    "shared_memory": False,
                    "capabilities": {"llm": True},
                },
                {
                    "name": "AMD Radeon Graphics",
                    "memory": 512,
                    "shared_memory": True,
                    "capabilities": {"llm": False},
                },
            ],
            "ram": {"memory": 65536, "speed": 5600, "type": "DDR5"},
        },
        "dependencies": {"vulkan": True},
    }


def external_provider(provider_type: str, linked_at: datetime) -> dict[str, Any]:
    """`ExternalProvider` with a planted access token, as Auth0 hands it to PiecesOS."""
    return {
        "type": provider_type,
        "user_id": f"{provider_type}|{crc32(provider_type.encode()):012d}",
        "created": grouped_timestamp(linked_at),
        "updated": grouped_timestamp(linked_at),
        "access_token": f"{PROVIDER_TOKEN_SECRET}-{provider_type}",
        "expires_in": 3599,
        "isSocial": provider_type not in _NOT_SOCIAL,
        "connection": provider_type,
    }


def user_profile(providers: Sequence[tuple[str, datetime]], created: datetime, updated: datetime) -> dict[str, Any]:
    """A full `UserProfile`, credentials and all, with `providers` as (type, linked at) pairs."""
    open_ai_auth0 = {
        "api_key": AUTH0_OPENAI_KEY_SECRET,
        "api_key_name": "personal",
        "organization_key": AUTH0_OPENAI_ORG_SECRET,
    }
    open_ai_descope = {
        "api_key": DESCOPE_OPENAI_KEY_SECRET,
        "api_key_name": "team",
        "organization_key": DESCOPE_OPENAI_ORG_SECRET,
    }
    return {
        "id": USER_ID,
        "email": "ada.lovelace@example.com",
        "name": "Ada Lovelace",
        "username": "ada",
        "vanityname": "ada",
        "picture": "https://picsum.photos/200",
        "aesthetics": {"font": {"size": 14}, "theme": {"dark": True}},
        "apiKeys": [API_KEY_SECRET],
        "auth0": {
            "global_id": GLOBAL_ID,
            "cloud_key": AUTH0_CLOUD_KEY_SECRET,
            "stripe_customer_id": AUTH0_STRIPE_SECRET,
            "vanityname": "ada",
            "open_AI": open_ai_auth0,
        },
        "descope": {
            "descope_id": "U2abcDEF3ghiJKL4mnoPQR5stu",
            "global_id": GLOBAL_ID,
            "vanityname": "ada",
            "open_AI": open_ai_descope,
        },
        "providers": {"iterable": [external_provider(kind, linked_at) for kind, linked_at in providers]},
        "created": grouped_timestamp(created),
        "updated": grouped_timestamp(updated),
    }


def planted_answers(now: datetime) -> dict[str, Any]:
    """Answers, by catalog name, with `SECRET_MARKERS` in ordinary fields, where no allow-list keeps them out.

    A token in the profile picture's URL, credentials in a provider's connection fields and in an enum value
    PiecesOS invents (it comes back as `*_raw`), in applet fields, in stream messages and in the paths PiecesOS
    echoes. Tests serve them through faults (a `body`, or a stream's `frames`) and search what the server wrote.
    """
    profile = user_profile([("github", now)], now, now)
    provider = external_provider("github", now)
    profile["picture"] = f"https://img.pieces.example/ada.png?token={API_KEY_SECRET}&size=200"
    profile["providers"] = {
        "iterable": [
            {**provider, "connection": f"github oauth2 ({PROVIDER_TOKEN_SECRET})", "user_id": AUTH0_STRIPE_SECRET},
            {**provider, "type": AUTH0_CLOUD_KEY_SECRET, "connection": f"client_secret={AUTH0_OPENAI_ORG_SECRET}"},
        ]
    }
    device = device_information()
    device["name"] = f"ada-workstation {DESCOPE_OPENAI_KEY_SECRET}"
    device["hardware"]["ram"]["type"] = DESCOPE_OPENAI_ORG_SECRET
    return {
        "user_snapshot": {"user": profile},
        "os_device_information": device,
        "os_update_check": {"status": AUTH0_OPENAI_KEY_SECRET, "percentage": None},
        "os_applet_launch": {
            "type": "COPILOT",
            "port": 39400,
            "handler": {"type": f"bundle {AUTH0_CLOUD_KEY_SECRET}", "version": AUTH0_OPENAI_KEY_SECRET},
        },
        "os_filesystem_path_verify": {
            "path": f"{HOME}/{AUTH0_STRIPE_SECRET}/notes.md",
            "verified": True,
            "file": True,
            "bytes": {"value": 5, "readable": API_KEY_SECRET},
        },
        "pick_files": [f"{HOME}/keys/{PROVIDER_TOKEN_SECRET}.txt"],
        "os_filesystem_file_read_streamed": {
            "id": "0d3c7a52-5b8e-4f61-9a0e-2c4b6d8f1a3e",
            "path": f"{HOME}/{DESCOPE_OPENAI_KEY_SECRET}/notes.md",
            "status": "COMPLETED",
            "percentage": 100,
            "bytes": {"raw": list(b"hello")},
        },
        "stream_os_migration_status": {
            "status": "MIGRATING",
            "overallProgressPercentage": 40,
            "activeMigrations": [
                {
                    "id": "7e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
                    "name": f"vectors {API_KEY_SECRET}",
                    "phase": AUTH0_CLOUD_KEY_SECRET,
                    "status": "MIGRATING",
                    "progressPercentage": 40,
                    "currentCollection": f"https://ada:{AUTH0_OPENAI_KEY_SECRET}@db.local/assets",
                }
            ],
        },
    }
