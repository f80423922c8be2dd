"""The compliance policy the mechanics suites deploy with.

The suites of the mechanics (moves, financing, repayment, indexing) run under this policy: any term up to
the law's year without a justification code, any depth, no trade document for onward moves. The
compliance suites (tests/api/test_compliance.py) and the demo run under the deployment's default policy,
the 2025 rules as docs/compliance.md describes them."""

from __future__ import annotations

from ledger.config import PolicySpec

MECHANICS_POLICY = PolicySpec.mechanics()
