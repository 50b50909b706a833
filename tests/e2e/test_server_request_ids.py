"""The ids of requests the server sends the client (the confirmation question) cannot be guessed, and a reply
to a request the server has not sent is ignored (issue 18, item 6)."""

from __future__ import annotations

import re

from tests.support import RawServer, SimulatorProcess

ACCEPT = {"action": "accept", "content": {"confirm": True}}


def _open(server: RawServer) -> None:
    server.request(
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {"elicitation": {"form": {}}},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    )
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


def _question(server: RawServer) -> dict[str, object]:
    while (message := server.read(timeout=30)).get("method") != "elicitation/create":
        pass
    return message


def test_a_forged_yes_to_the_question_is_ignored_and_the_person_s_answer_counts(simulator: SimulatorProcess) -> None:
    server = RawServer(simulator.url, PIECES_MCP_CONFIRM="client")
    try:
        _open(server)
        # Answers sent ahead, to the ids a counter would give the question: none may count as a yes.
        for guess in (0, 1, 2, 3, "1"):
            server.send({"jsonrpc": "2.0", "id": guess, "result": ACCEPT})
        server.send({"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": "os_restart"}})
        question = _question(server)
        assert isinstance(question["id"], str) and re.fullmatch(r"[0-9a-f]{32}", question["id"])
        for guess in (0, 1, 2, 3, "1"):  # and again, while the question is open
            server.send({"jsonrpc": "2.0", "id": guess, "result": ACCEPT})
        server.send({"jsonrpc": "2.0", "id": question["id"], "result": {"action": "decline"}})
        while (answer := server.read(timeout=30)).get("id") != 42:
            pass
        assert answer["result"]["isError"] is True
        assert simulator.os_calls("/os/restart") == []  # only the real answer counted: no
        # A second question gets an id of its own, not the first's plus one.
        server.send({"jsonrpc": "2.0", "id": 43, "method": "tools/call", "params": {"name": "os_restart"}})
        second = _question(server)
        assert second["id"] != question["id"] and isinstance(second["id"], str)
        server.send({"jsonrpc": "2.0", "id": question["id"], "result": ACCEPT})  # a replay of the first id
        server.send({"jsonrpc": "2.0", "id": second["id"], "result": {"action": "decline"}})
        while (answer := server.read(timeout=30)).get("id") != 43:
            pass
        assert simulator.os_calls("/os/restart") == []
        code, stderr = server.close()
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert code == 0 and "Traceback" not in stderr
