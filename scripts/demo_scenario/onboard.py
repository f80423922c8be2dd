"""Stage 1: the deployment's transactions, every participant registered with its legal-id hash and
role, each enterprise's size class (企业划型) recorded by the onboarding key, and settlement cash minted
to the payers (the court's ENFORCEMENT comes through governance: `govern`). The deployment runs the
default policy, the 2025 rules; it is read back from the registry here, as every later stage meets it."""

from __future__ import annotations

from ledger.client.compliance import DAY, SIZE_CLASS_ZH

from .cast import SIZE_CLASSES
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
    classify(run)
    read_policy(run)
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


def classify(run: Run) -> None:
    """The onboarding key (the deployer, locally) records each enterprise's size; read back from the chain."""
    c, onboarding = run.chain.client, run.p("admin").signer
    for key, size in SIZE_CLASSES.items():
        address = run.p(key).address
        recorded = c.set_size_class(onboarding, address, size)
        run.record(1, f"size class {key}: {SIZE_CLASS_ZH[size]} {size.label}", "admin", recorded)
        run.summary.actor(key).size_class = c.size_class(address).label


def read_policy(run: Run) -> None:
    policy = run.chain.client.default_policy()
    comp = run.summary.compliance
    comp.max_tenor_days = policy.max_tenor_seconds // DAY
    comp.long_tenor_days = policy.long_tenor_seconds // DAY
    comp.sme_payment_term_days = policy.sme_payment_term_seconds // DAY
    comp.trade_background = policy.trade_background
