"""The chain simulation (tests/sync/simulation.py) over a bounded number of seeds.

CI runs ``SIM_SEEDS`` seeds (default 14) of ``SIM_STEPS`` steps (default 30) from
``SIM_FIRST_SEED`` (default 0) with the server on SQLite, and the first ``SIM_PG_SEEDS`` of
them (default 4) again with the server on PostgreSQL. ``SIM_BACKEND=sqlite`` or
``SIM_BACKEND=postgresql`` runs every seed on that backend alone. A longer run::

    SIM_SEEDS=500 SIM_STEPS=60 SIM_BACKEND=postgresql scripts/with-keyring.sh \\
        .venv/bin/python -m pytest tests/sync/test_simulation.py -q -s

A failing seed prints itself, its backend and its steps; ``SIM_SEED=n SIM_BACKEND=...``
replays that one seed alone.
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
    SEEDS = list(range(first, first + int(os.environ.get("SIM_SEEDS", "14"))))
BACKEND = os.environ.get("SIM_BACKEND")
if BACKEND not in (None, "", "sqlite", "postgresql"):
    raise ValueError(f"SIM_BACKEND is sqlite or postgresql, not {BACKEND!r}")
RUNS_OF = (
    [(BACKEND, seed) for seed in SEEDS] if BACKEND
    else [("sqlite", seed) for seed in SEEDS]
    + [("postgresql", seed) for seed in SEEDS[: int(os.environ.get("SIM_PG_SEEDS", "4"))]]
)

FAULTS: Counter[str] = Counter()
RUNS: Counter[str] = Counter()
log = logging.getLogger(__name__)


@pytest.fixture(scope="module", autouse=True)
def totals() -> Iterator[None]:
    """How many runs and faults passed (shown with ``-s``)."""
    yield
    print(f"\nsimulation: {sum(RUNS.values())} runs of {STEPS} steps passed "
          f"{dict(sorted(RUNS.items()))}, {sum(FAULTS.values())} faults: "
          f"{dict(sorted(FAULTS.items()))}")


@pytest.mark.parametrize(("backend", "seed"), RUNS_OF, ids=[f"{b}-{s}" for b, s in RUNS_OF])
def test_the_chain_keeps_every_event_under_faults(
        backend: str, seed: int, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    postgres = request.getfixturevalue("sync_postgres") if backend == "postgresql" else None
    url = postgres.create_database() if postgres else None
    try:
        sim = Simulation(seed, STEPS, tmp_path, database_url=url)
        sim.run()  # raises with the seed, the backend and the steps to replay it
        FAULTS.update(sim.faults)
        RUNS[backend] += 1
        log.info("simulation %s", sim.summary())
    finally:
        if postgres and url:
            postgres.drop_database(url)
