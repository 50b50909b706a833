"""`pieces-mcp` run in the test's own process, for what the command line decides before it starts anything.

A refusal at start (a bad setting, a port that cannot be had, a tool that is not offered) is the argument
handling's doing, not the process's: tested here it costs no interpreter start. Only commands that neither serve
stdio nor take over this process's file descriptors belong here; `call` still runs its child `serve` for real.
"""

from __future__ import annotations

import io
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from unittest.mock import patch

from pieces_mcp import cli
from tests.support import server_env


def run_here(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`pieces-mcp` in this process, for what the command line decides before it starts anything (a server, a
    child, a connection): its exit code and what it printed, with the environment a child would get.

    Setting up the process's logging is left out: it is global to this process, and not what these tests check.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        patch.dict(os.environ, server_env(None, **settings), clear=True),
        patch.object(cli, "configure_logging", lambda level: None),
        redirect_stdout(stdout),
        redirect_stderr(stderr),
    ):
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code if isinstance(exc.code, int) else 2
    return subprocess.CompletedProcess(list(args), code, stdout.getvalue(), stderr.getvalue())
