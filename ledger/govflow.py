"""What the operator's tools (CLI, API) add on top of `ledger.governance.client.Governance`.

`advance` takes a proposal as far as it can go now: it queues a succeeded proposal and, when the
timelock's delay is already over (a zero-delay network), executes it in the same call. The other
helpers put proposals and actions in the catalogue's words, the way `tierchain gov status` and
`GET /v1/governance/proposals` show them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.governance.client import Governance
from ledger.governance.models import ActionView, Advanced, Proposal
from ledger.keys import Signer


def _step_key(key: str | None, step: str) -> str | None:
    return f"{key}:{step}" if key is not None else None


def chain_time(gov: Governance) -> int:
    """The latest block's time: what the timelock compares an ETA with."""
    return int(gov.w3.eth.get_block("latest")["timestamp"])


def advance(gov: Governance, signer: Signer, proposal_id: int, *, key: str | None = None) -> list[Advanced]:
    """Queue a succeeded proposal, or execute a queued one that is ready; after queueing, execute at
    once when the delay has already passed. Each step has its own idempotency key (`key:queue`,
    `key:execute`), so a retry resumes where the first attempt stopped."""
    step = "queue" if gov.state(proposal_id) == "succeeded" else "execute"
    steps = [gov.execute(signer, proposal_id, key=_step_key(key, step))]
    first = steps[0]
    if first.step == "queued" and first.eta is not None and first.eta <= chain_time(gov):
        steps.append(gov.execute(signer, proposal_id, key=_step_key(key, "execute")))
    return steps


def iso(seconds: int | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC time (`2026-11-30T08:00:00Z`)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def action_words(view: ActionView) -> str:
    """One call as the catalogue writes it: `set-threshold threshold=1`."""
    args = " ".join(f"{k}={_word(v)}" for k, v in view.arguments.items())
    return f"{view.action} {args}".strip()


def _word(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def proposal_row(p: Proposal) -> dict[str, Any]:
    """A proposal in brief: what the listing shows per proposal."""
    return {
        "id": p.proposal_id,
        "state": p.state,
        "approvals": f"{p.approvals}/{p.needed}",
        "class": p.action_class,
        "delay_seconds": p.delay_seconds,
        "eta": iso(p.eta),
        "actions": "; ".join(action_words(a) for a in p.actions),
    }


def proposal_detail(p: Proposal) -> dict[str, Any]:
    """A proposal in full: every field, ETA as unix seconds and ISO time, actions by catalogue name."""
    return {
        "id": p.proposal_id,
        "state": p.state,
        "proposer": p.proposer,
        "description": p.description,
        "description_hash": "0x" + p.description_hash.hex(),
        "approvals": p.approvals,
        "needed": p.needed,
        "against": p.against,
        "class": p.action_class,
        "delay_seconds": p.delay_seconds,
        "eta": p.eta,
        "eta_iso": iso(p.eta),
        "ready": p.ready,
        "snapshot_block": p.snapshot_block,
        "deadline_block": p.deadline_block,
        "actions": [
            {
                "action": a.action,
                "contract": a.contract,
                "target": a.target,
                "arguments": a.arguments,
                "class": a.action_class,
                "delay_seconds": a.delay_seconds,
            }
            for a in p.actions
        ],
    }
