"""The `face` fixture: a Deribit face on an engine, without sockets."""

from __future__ import annotations

import pytest

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.market.generator import build_engine


@pytest.fixture(scope="module")
def face():
    from exchanges.simulator.deribit.face import DeribitFace

    return DeribitFace(build_engine(seed=3), Faults())
