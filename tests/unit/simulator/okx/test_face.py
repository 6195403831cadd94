"""The OKX face's switches and URLs (okx/face.py)."""

from __future__ import annotations

import pytest

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.market.generator import build_engine
from exchanges.simulator.okx.face import OkxFace


def test_configure_switches_book_mode_and_refuses_unknown_settings():
    face = OkxFace(build_engine(seed=1), Faults())
    assert face.configure({})["book_mode"] == "current"
    assert face.configure({"book_mode": "checksum"})["book_mode"] == "checksum"
    assert face.configure({"book_mode": "no_snapshot", "ws_idle_timeout_s": 0.5}) == {
        "book_mode": "no_snapshot",
        "ws_idle_timeout_s": 0.5,
        "book_interval_ms": 100,
        "tbt_interval_ms": 10,
        "rate_limits": True,
        "cancel_all_after_scale": 1.0,
        "book_keepalive_s": 60.0,
    }
    with pytest.raises(ValueError, match="book_mode"):
        face.configure({"book_mode": "bogus"})
    with pytest.raises(ValueError, match="unknown"):
        face.configure({"colour": "red"})
    with pytest.raises(ValueError, match="positive"):
        face.configure({"ws_idle_timeout_s": 0})


def test_urls_are_the_real_paths_on_the_given_port():
    face = OkxFace(build_engine(seed=1), Faults())
    assert face.urls("127.0.0.1", 8802) == {
        "rest": "http://127.0.0.1:8802",
        "ws_public": "ws://127.0.0.1:8802/ws/v5/public",
        "ws_private": "ws://127.0.0.1:8802/ws/v5/private",
    }
