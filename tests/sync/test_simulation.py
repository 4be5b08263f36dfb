"""The chain simulation (tests/sync/simulation.py) over a bounded number of seeds.

CI runs ``SIM_SEEDS`` seeds (default 20) of ``SIM_STEPS`` steps (default 30) from
``SIM_FIRST_SEED`` (default 0). A longer run::

    SIM_SEEDS=500 SIM_STEPS=60 scripts/with-keyring.sh .venv/bin/python -m pytest \\
        tests/sync/test_simulation.py -q

A failing seed prints itself and its steps; ``SIM_SEED=n`` replays that one seed alone.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.simulation import Simulation

STEPS = int(os.environ.get("SIM_STEPS", "30"))
if os.environ.get("SIM_SEED"):
    SEEDS = [int(os.environ["SIM_SEED"])]
else:
    first = int(os.environ.get("SIM_FIRST_SEED", "0"))
    SEEDS = list(range(first, first + int(os.environ.get("SIM_SEEDS", "20"))))

FAULTS: Counter[str] = Counter()
RUNS: list[int] = []
log = logging.getLogger(__name__)


@pytest.fixture(scope="module", autouse=True)
def totals() -> Iterator[None]:
    """How many runs and faults passed (shown with ``-s``)."""
    yield
    print(f"\nsimulation: {len(RUNS)} runs of {STEPS} steps passed, "
          f"{sum(FAULTS.values())} faults: {dict(sorted(FAULTS.items()))}")


@pytest.mark.parametrize("seed", SEEDS)
def test_the_chain_keeps_every_event_under_faults(seed: int, tmp_path: Path) -> None:
    sim = Simulation(seed, STEPS, tmp_path)
    sim.run()  # raises with the seed and the steps to replay it
    FAULTS.update(sim.faults)
    RUNS.append(seed)
    log.info("simulation %s", sim.summary())
