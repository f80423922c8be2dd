"""What every fault scenario reports and counts the same way: the per-operation table (attempted,
acknowledged, executed, lost, duplicated, and a column of the scenario's own) and each step's effect
counted on chain by its events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from ledger.client import TierchainClient

Row = Sequence[Any]  # (operation, attempted, acknowledged, executed, lost, duplicated[, extra])
COLUMNS = (("attempted", 10), ("acknowledged", 14), ("executed", 10), ("lost", 6), ("duplicated", 12))


def print_table(title: str, rows: Iterable[Row], extra: str | None = None) -> None:
    """The table, with a total line; `extra` names a seventh column when the rows carry one."""
    rows = list(rows)
    width = len(extra) + 2 if extra else 0
    print(f"\n{title}")
    print(
        "operation ", *(f"{name:>{w}}" for name, w in COLUMNS), f"{extra:>{width}}" if extra else "", sep=""
    )
    columns = len(COLUMNS) + (1 if extra else 0)
    for row in [*rows, ("total", *(sum(int(r[i]) for r in rows) for i in range(1, columns + 1)))]:
        cells = [f"{row[i + 1]:>{w}}" for i, (_, w) in enumerate(COLUMNS)]
        print(f"{row[0]:<10}", *cells, f"{row[6]:>{width}}" if extra else "", sep="")


def executed_on_chain(
    client: TierchainClient, start: int, obligations: Sequence[dict[str, Any]]
) -> dict[str, Counter[Any]]:
    """Each step's effect since block `start`, counted by its events and keyed the way the workload
    recognises it: attest (fingerprint), propose (document), confirm (proposal id), split (root
    token), offer and accept (token id). `obligations` carry each one's `fingerprint`, `proposal` and
    `root` as the workload recorded them."""

    def logs(contract: Any, event: str) -> list[Any]:
        return list(getattr(contract.events, event)().get_logs(from_block=start, to_block="latest"))

    fingerprints = {o["fingerprint"] for o in obligations}
    proposals = {o["proposal"] for o in obligations}
    roots = {o["root"] for o in obligations}
    return {
        "attest": Counter(
            bytes(e.args.fingerprint)
            for e in logs(client.trades, "DocumentAttested")
            if bytes(e.args.fingerprint) in fingerprints
        ),
        "propose": Counter(
            bytes(d) for e in logs(client.issuance, "ObligationProposed") for d in e.args.documents
        ),
        "confirm": Counter(
            e.args.proposalId
            for e in logs(client.issuance, "ObligationIssued")
            if e.args.proposalId in proposals
        ),
        "split": Counter(
            e.args._fromTokenId for e in logs(client.token, "TransferValue") if e.args._fromTokenId in roots
        ),
        "offer": Counter(e.args.tokenId for e in logs(client.financing, "OfferMade")),
        "accept": Counter(e.args.tokenId for e in logs(client.financing, "Financed")),
    }
