"""Fixtures of the consortium fault suite: the network and the deployed system (consortium_net.py)."""

from __future__ import annotations

from tests.faults.consortium_net import consortium, system

__all__ = ["consortium", "system"]
