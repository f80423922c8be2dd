"""Stage 11: a supplier lost its key (密钥遗失). Its record and its pieces move to a new key, by two keys in
two steps: the onboarding key asks (request), the court's enforcement officer approves under the case
reference, then moves every piece the lost key holds in a batch. The pieces keep their ids, values and
lineage back to the obligation; the lost key is refused from then on; the supplier redeems at maturity
with its new key. Every figure is read back from the chain."""

from __future__ import annotations

from ledger.errors import ContractRevert
from ledger.keys import local_accounts

from .cast import PARTIES, Party
from .issue import DemoFailure
from .report import CashLine, Recovery, Refusal
from .scenario import CURRENCY, Run

STAGE = 11
SUPPLIER = "t5"  # the tier-5 mining co-op: the deepest holder, the likeliest to lose a phone
REPLACEMENT = "t5_new"
CASE = "(2026)沪0115执1234号"


def recover_lost_key(run: Run, mnemonic: str) -> None:
    c = run.chain.client
    lost = run.p(SUPPLIER)
    # The next account anvil funds from the mnemonic: the supplier's new key, with gas, never registered.
    signer = local_accounts(mnemonic, len(PARTIES) + 1)[-1]
    new = Party(REPLACEMENT, f"{lost.name} (new key)", lost.role, lost.tier, signer, lost.uscc)
    held = c.recoverable_tokens(lost.address)
    if not held:
        raise DemoFailure(f"{SUPPLIER} holds nothing to recover")
    before = {t: (c.balance_of(t), tuple(c.lineage(t))) for t in held}
    if c.cash_balance(CURRENCY, lost.address):
        raise DemoFailure(f"{SUPPLIER} holds settlement cash: a recovery would not move it")

    asked = c.request_recovery(run.p("admin").signer, lost.address, new.address, CASE)
    asking = f"onboarding asks to move {SUPPLIER}'s record to a new key (case {CASE})"
    run.record(STAGE, asking, "admin", asked)
    approved = c.approve_recovery(run.p("court").signer, lost.address, CASE)
    approving = f"the court's officer approves: {SUPPLIER}'s record moves to the new key"
    run.record(STAGE, approving, "court", approved)
    moved = c.recover_tokens(run.p("court").signer, lost.address, CASE)
    for batch in moved.batches:
        listed = ", ".join(f"#{t}" for t in batch.token_ids)
        run.record_receipt(
            STAGE, f"the court's officer moves {listed} to the new key", "court", batch.tx_hash
        )

    run.parties[REPLACEMENT] = new
    known = next(a for a in run.summary.actors if a.key == SUPPLIER)
    run.summary.actors.append(
        known.model_copy(update={"key": REPLACEMENT, "name": new.name, "address": new.address})
    )
    run.by_address[new.address.lower()] = REPLACEMENT
    run.summary.cash.append(CashLine(actor=REPLACEMENT, start=c.cash_balance(CURRENCY, new.address)))
    for token in held:
        if token in run.pieces:
            run.pieces[token].owner = REPLACEMENT

    ids = [t for b in moved.batches for t in b.token_ids]
    after = {t: (c.balance_of(t), tuple(c.lineage(t))) for t in held}
    record = c.participant(new.address)
    report = run.summary.recovery = Recovery(
        supplier=SUPPLIER,
        lost=lost.address,
        replacement=new.address,
        case=CASE,
        token_ids=sorted(ids),
        value=sum(v for v, _ in after.values()),
        kept=before == after and all(c.owner_of(t).lower() == new.address.lower() for t in held),
        record_moved=c.recovered_to(lost.address) == new.address
        and "0x" + record.legal_id_hash.hex() == lost.legal_id_hash.lower()
        and c.size_class(new.address) == c.size_class(lost.address),
    )

    # The lost address is dead: nobody can pay it any more (here, the supplier's own new key trying).
    target = ids[0]
    try:
        c.transfer(new.signer, target, lost.address)
    except ContractRevert as refused:
        report.lost_refusal = refused.error_name
        run.summary.refusals.append(
            Refusal(
                what=f"#{target} paid to {SUPPLIER}'s lost key after the recovery",
                by=REPLACEMENT,
                codes=[refused.error_name],
                detail=f"ReceivableToken refused: {refused}; #{target} stays with the new key",
            )
        )
    else:
        raise DemoFailure(f"#{target} was paid to {SUPPLIER}'s lost key after its recovery")
