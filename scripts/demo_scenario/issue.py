"""Stages 2 and 3: the tier-1 supplier's invoice and delivery note attested by 2 of 3 oracles, then the
obligation proposed by the supplier and confirmed by the core enterprise.

Stage 6 lives here too, because it is issuance refused: the same invoice, reprinted, offered for a
second obligation. The oracle nodes refuse to sign it (ALREADY_ATTESTED), and the IssuanceDesk
refuses a proposal citing it (DocumentAlreadyUsed) - two independent layers, both shown decoded.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.client import Terms
from ledger.errors import ContractRevert
from oracles.canonical import fingerprint
from oracles.signatures import SignedDocument

from .paper import Paperwork
from .quorum import Quorum
from .report import Refusal
from .scenario import AGREED_TERM, AGREED_TERM_TEXT, CURRENCY, DAY, MIN_UNIT, Run, agreed_term_ref


class DemoFailure(Exception):
    """The scenario could not go on: something the story relies on did not happen."""


def attest(run: Run, quorum: Quorum, paper: Paperwork) -> None:
    attest_documents(run, quorum, 2, [(paper.invoice, "invoice"), (paper.delivery_note, "delivery note")])


def attest_documents(
    run: Run, quorum: Quorum, stage: int, documents: Sequence[tuple[SignedDocument, str]]
) -> list[str]:
    """The aggregator collects 2-of-3 signatures for each document and attests it; returns the
    fingerprints, in the order given. Anything short of every document attested stops the demo."""
    report, items = quorum.submit("aggregator", [d for d, _ in documents])
    fingerprints = [fingerprint(d.document) for d, _ in documents]
    labels = dict(zip(fingerprints, (label for _, label in documents), strict=True))
    missing = [labels[fp] for fp in fingerprints if fp not in report.attested]
    if missing:
        raise DemoFailure(
            f"the oracles did not attest {', '.join(missing)}: {report.counts} {report.refused}"
        )
    for item in items:  # the aggregator's store also answers for documents attested before this batch
        if item.fingerprint not in labels:
            continue
        assert item.tx_hash is not None
        signers = len(item.signatures)
        run.record_receipt(
            stage,
            f"attest {labels[item.fingerprint]} ({signers} of 3 signed, 2 needed)",
            "aggregator",
            item.tx_hash,
        )
        run.summary.attested.append(item.fingerprint)
    return fingerprints


def _terms(run: Run, documents: tuple[str, ...], maturity: int) -> Terms:
    """The obligation's terms: 180 days from now, past 60 days after delivery, so the tier-1 supplier (medium)
    and the core enterprise (large) cite the payment term agreed in their purchase contract."""
    return Terms(
        supplier=run.p("t1").address,
        obligor=run.p("core").address,
        currency=CURRENCY,
        face=run.plan.face,
        maturity=maturity,
        min_unit=MIN_UNIT,
        documents=tuple(bytes.fromhex(fp[2:]) for fp in documents),
        agreed_term_ref=agreed_term_ref(),
    )


def issue(run: Run, paper: Paperwork) -> int:
    """Propose and confirm; returns the root token id (held by the tier-1 supplier)."""
    c = run.chain.client
    maturity = run.now() + run.plan.tenor_days * DAY
    terms = _terms(run, paper.fingerprints, maturity)
    proposed = c.propose(run.p("t1").signer, terms)
    run.record(
        3,
        f"propose {run.plan.face / 100:,.2f} {CURRENCY} obligation, {run.plan.tenor_days} days, "
        f"citing agreed term {AGREED_TERM}",
        "t1",
        proposed,
    )
    issued = c.confirm(run.p("core").signer, proposed.proposal_id, terms)
    run.record(3, "confirm: slot created, face minted to tier 1", "core", issued)
    run.summary.compliance.agreed_term = AGREED_TERM
    run.summary.compliance.agreed_term_text = AGREED_TERM_TEXT
    run.summary.compliance.agreed_term_ref = "0x" + terms.agreed_term_ref.hex()
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
