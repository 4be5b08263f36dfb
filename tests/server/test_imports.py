"""The central server shares the event declarations with the till and nothing of the till's
use cases: importing its app loads no till service, no argon2 and no Qt."""

from __future__ import annotations

import json
import subprocess
import sys

_IMPORT_APP = """
import json, sys
import sync.server.app
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_server_app_loads_no_till_service_argon2_or_qt() -> None:
    done = subprocess.run([sys.executable, "-c", _IMPORT_APP], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "pos_member.events" in loaded  # guards the check: the app really was imported
    assert [m for m in loaded if m == "pos_member.services"
            or m.startswith("pos_member.services.")] == []
    assert [m for m in loaded if m.split(".")[0] in ("argon2", "PySide6", "shiboken6")] == []
