from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.factories import Till, make_till


@pytest.fixture
def till(tmp_path: Path) -> Till:
    return make_till(tmp_path)
