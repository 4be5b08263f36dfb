"""Process start → login window shown (offscreen), and memory at that moment.

Runs `pos-member run` on a demo store of 2,000 members (built once under bench/.data/startup)
five times as a new process each (the OS file cache is warm: "cold" means a new interpreter),
timing from spawn to the line the app prints once the login window is shown, and reading the
process's resident memory from /proc at that moment. The raw baseline is a bare PySide6 process
that shows an empty QWidget, measured the same way in the same run.

Needs the OS keyring (the till reads its data key from it): run under scripts/with-keyring.sh,
which this script does for itself when no session bus is there.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data" / "startup"
BIN = Path(sys.executable).parent
RUNS = 5
BARE = (
    "import sys\n"
    "from PySide6.QtWidgets import QApplication, QWidget\n"
    "a = QApplication(sys.argv[:1]); w = QWidget(); w.show(); a.processEvents()\n"
    "print('Login window shown.', flush=True)\n"
    "import time; time.sleep(1)\n"
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def time_to_window(cmd: list[str]) -> tuple[float, float, float, float]:
    """Seconds and MB at "Login window shown.", then at "Till ready." (the core open, login
    possible; the bare baseline has no such line and reports its window figures again)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            text=True)
    assert proc.stdout is not None
    shown = ready = None
    for line in proc.stdout:
        if "Login window shown." in line:
            shown = (time.perf_counter() - t0, rss_mb(proc.pid))
            if cmd[0] == sys.executable:
                ready = shown
                break
        elif "Till ready." in line:
            ready = (time.perf_counter() - t0, rss_mb(proc.pid))
            break
    proc.terminate()
    proc.wait(timeout=10)
    if shown is None or ready is None:
        raise RuntimeError(f"{cmd[0]} exited before the login window was ready")
    return (*shown, *ready)


def ensure_demo() -> None:
    marker = DATA / "ready"
    if marker.exists():
        return
    shutil.rmtree(DATA, ignore_errors=True)
    subprocess.run([str(BIN / "pos-member"), "demo", "--no-gui", "--data-dir", str(DATA)],
                   check=True, stdout=subprocess.DEVNULL)
    marker.touch()


def main() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        os.execv("/bin/bash", ["bash", str(ROOT / "scripts" / "with-keyring.sh"),
                               sys.executable, *sys.argv])
    ensure_demo()
    till = [str(BIN / "pos-member"), "run", "--data-dir", str(DATA), "--exit-after", "30"]
    bare = [sys.executable, "-c", BARE]
    time_to_window(till)  # warm the OS file cache once
    runs = [time_to_window(till) for _ in range(RUNS)]
    bare_runs = [time_to_window(bare) for _ in range(RUNS)]
    median = statistics.median(r[0] for r in runs)
    # Memory is reported at "ready" (the larger figure): the window alone would flatter it.
    rss = max(r[3] for r in runs)
    print(f"login window shown: median {median:.3f} s over {RUNS} starts "
          f"({', '.join(f'{r[0]:.3f}' for r in runs)}); target ≤ 1.0 s")
    print(f"RSS at login window: {max(r[1] for r in runs):.1f} MB (max of runs)")
    print(f"core open, login possible: median {statistics.median(r[2] for r in runs):.3f} s, "
          f"RSS {rss:.1f} MB (reported); target ≤ 150 MB")
    print(f"raw baseline, bare PySide6 window: median "
          f"{statistics.median(r[0] for r in bare_runs):.3f} s, "
          f"RSS {max(r[1] for r in bare_runs):.1f} MB")
    print("RESULT " + json.dumps({"login_window_median_s": round(median, 3),
                                  "rss_mb": round(rss, 1)}))


if __name__ == "__main__":
    main()
