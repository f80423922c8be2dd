"""Stages 2 and 3: the tier-1 supplier's invoice and delivery note attested by 2 of 3 oracles, then the
obligation proposed by the supplier and confirmed by the core enterprise.

Stage 6 lives here too, because it is issuance refused: the same invoice, reprinted, offered for a
second obligation. The oracle nodes refuse to sign it (ALREADY_ATTESTED), and the IssuanceDesk
refuses a proposal citing it (DocumentAlreadyUsed) - two independent layers, both shown decoded.
"""

from __future__ import annotations

from ledger.client import Terms
from ledger.errors import ContractRevert

from .paper import Paperwork
from .quorum import Quorum
from .report import Refusal
from .scenario import CURRENCY, DAY, MIN_UNIT, Run


class DemoFailure(Exception):
    """The scenario could not go on: something the story relies on did not happen."""


def attest(run: Run, quorum: Quorum, paper: Paperwork) -> None:
    report, items = quorum.submit("aggregator", [paper.invoice, paper.delivery_note])
    if report.counts != {"attested": 2}:
        raise DemoFailure(f"the oracles did not attest both documents: {report.counts} {report.refused}")
    labels = dict(zip(paper.fingerprints, ("invoice", "delivery note"), strict=True))
    for item in items:
        assert item.tx_hash is not None
        signers = len(item.signatures)
        run.record_receipt(
            2,
            f"attest {labels[item.fingerprint]} ({signers} of 3 signed, 2 needed)",
            "aggregator",
            item.tx_hash,
        )
        run.summary.attested.append(item.fingerprint)


def _terms(run: Run, documents: tuple[str, ...], maturity: int) -> Terms:
    return Terms(
        supplier=run.p("t1").address,
        obligor=run.p("core").address,
        currency=CURRENCY,
        face=run.plan.face,
        maturity=maturity,
        min_unit=MIN_UNIT,
        documents=tuple(bytes.fromhex(fp[2:]) for fp in documents),
    )


def issue(run: Run, paper: Paperwork) -> int:
    """Propose and confirm; returns the root token id (held by the tier-1 supplier)."""
    c = run.chain.client
    maturity = run.now() + run.plan.tenor_days * DAY
    terms = _terms(run, paper.fingerprints, maturity)
    proposed = c.propose(run.p("t1").signer, terms)
    run.record(3, f"propose {run.plan.face / 100:,.2f} {CURRENCY} obligation", "t1", proposed)
    issued = c.confirm(run.p("core").signer, proposed.proposal_id, terms)
    run.record(3, "confirm: slot created, face minted to tier 1", "core", issued)
    run.summary.slot, run.summary.maturity = issued.slot, maturity
    run.add_piece(issued.token_id, None, "t1")
    return issued.token_id


def reuse_invoice(run: Run, quorum: Quorum, paper: Paperwork) -> None:
    """The reprinted invoice goes to a second aggregator desk, then straight to the IssuanceDesk."""
    fp = paper.fingerprints[0]
    report, items = quorum.submit("second-desk", [paper.reprint])
    node_codes = sorted({r.code.value for item in items for rs in item.refusals.values() for r in rs})
    nodes_refusing = sum(len(item.refusals) for item in items)
    if fp not in report.refused:
        raise DemoFailure(f"the oracles did not refuse the reprinted invoice: {report.counts}")
    try:
        run.chain.client.propose(run.p("t1").signer, _terms(run, (fp,), run.summary.maturity))
    except ContractRevert as refused:
        contract_error, contract_detail = refused.error_name, str(refused)
    else:
        raise DemoFailure("the IssuanceDesk accepted a proposal citing a used invoice")
    changed = sorted(k for k, v in paper.reprint_fields.items() if str(v) != str(_canonical(paper)[k]))
    run.summary.refusals.append(
        Refusal(
            what=f"reuse invoice {fp[:10]}… for a second obligation "
            f"(reprinted: {', '.join(changed) or 'no field'} printed differently)",
            by="t1",
            codes=[*node_codes, contract_error],
            detail=f"{nodes_refusing} of 3 oracle nodes refused ({', '.join(node_codes)}); "
            f"IssuanceDesk.propose reverted {contract_detail}",
        )
    )


def _canonical(paper: Paperwork) -> dict[str, object]:
    dumped: dict[str, object] = paper.invoice.document.model_dump(mode="json")
    return dumped
