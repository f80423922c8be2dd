"""Stage 1: the deployment's transactions, every participant registered with its legal-id hash and
role, and settlement cash minted to the payers (the court's ENFORCEMENT comes through governance:
`govern`)."""

from __future__ import annotations

from .report import Actor, CashLine
from .scenario import CURRENCY, Run

# Tokenized deposits the payers start with: the obligor covers the face, each bank its financing.
CASH = {"core": 1_200_000_00, "bank_a": 2_000_000_00, "bank_b": 2_000_000_00}


def record_deployment(run: Run) -> None:
    for name, contract in run.chain.deployment.contracts.items():
        run.record_receipt(1, f"deploy {name}", "admin", contract.tx_hash)


def onboard(run: Run) -> None:
    c, admin = run.chain.client, run.p("admin").signer
    for party in run.parties.values():
        run.summary.actors.append(
            Actor(
                key=party.key,
                name=party.name,
                role=party.role,
                tier=party.tier,
                address=party.address,
                uscc=party.uscc,
                legal_id_hash=party.legal_id_hash if party.is_participant else None,
            )
        )
        if party.is_participant:
            registered = c.register_participant(admin, party.address, party.legal_id_hash, [party.role])
            run.record(1, f"register {party.key} as {party.role}", "admin", registered)
    for key, amount in CASH.items():
        run.record(
            1,
            f"mint {CURRENCY} deposit to {key}",
            "admin",
            c.mint(admin, CURRENCY, run.p(key).address, amount),
        )
    run.summary.cash = [
        CashLine(actor=key, start=c.cash_balance(CURRENCY, party.address))
        for key, party in run.parties.items()
        if party.is_participant
    ]
