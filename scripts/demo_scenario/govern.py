"""Stage 1 (governance): one timelocked change, the way every administrative change reaches a live
deployment — the operators propose it, M seats approve it, it is queued in the timelock for its class
delay and then executed. Here the change gives the court's executor ENFORCEMENT (court-ordered
transfers); locally one seat approves and the delays are zero, on besu-qbft it waits 48 h."""

from __future__ import annotations

from ledger.governance.actions import parse_action

from .report import Governed
from .scenario import Run

DESCRIPTION = "Give the court's enforcement officer ENFORCEMENT, for court-ordered transfers"


def govern(run: Run) -> None:
    c, operator = run.chain.client, run.p("admin").signer
    gov = c.governance
    court = run.p("court").address
    action = parse_action("grant-role", {"role": "ENFORCEMENT", "account": court})
    delay = gov.required_delay([action])
    proposed = gov.propose(operator, [action], DESCRIPTION)
    pid = proposed.proposal_id
    run.record(1, f"propose #{pid}: grant ENFORCEMENT to court", "operator", proposed)
    approved = gov.approve(operator, pid)
    run.record(1, f"approve #{pid} ({approved.approvals} of {approved.needed} seats)", "operator", approved)
    queued = gov.execute(operator, pid)
    eta = queued.eta or run.now()
    run.record(1, f"queue #{pid} in the timelock ({delay} s class delay)", "operator", queued)
    if eta > run.now():
        run.chain.warp_to(eta)
    executed = gov.execute(operator, pid)
    run.record(1, f"execute #{pid}: court holds ENFORCEMENT", "anyone", executed)
    run.summary.governance = Governed(
        proposal_id=pid,
        action=f"grant-role ENFORCEMENT {court}",
        description=DESCRIPTION,
        approvals=approved.approvals,
        needed=approved.needed,
        delay_seconds=delay,
        eta=eta,
        state=gov.status(pid).state,
        executed_block=executed.block_number,
    )
