"""Lost-key recoveries (密钥遗失恢复) in the index, on SQLite and PostgreSQL: a cancelled request, then a
request approved by a second key; the participants projection shows the lost address `recovered` and the
replacement with its roles; moved tokens are counted and change owner (when the token can recover)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from sqlalchemy import Engine
from sqlmodel import Session, select

from ledger.indexer import queries
from ledger.indexer.models import Participant, Recovery, Token
from tests.ledger.indexer.helpers import make_indexer
from tests.ledger.indexer.world import World

pytestmark = pytest.mark.chain


def test_recoveries_follow_the_chain(chain: World, db: Engine) -> None:
    send, addr = chain.send, chain.addr
    lost = addr("s2")
    new = Account.create().address
    first, second = keccak(text="RC-2026-0041"), keccak(text="RC-2026-0042")
    send("admin", "ParticipantRegistry", "requestRecovery", lost, new, first)
    indexer = make_indexer(chain, db, chunk_size=3)
    indexer.sync()  # the request and what follows fall in different syncs
    send("enforcer", "ParticipantRegistry", "cancelRecovery", lost, first)
    send("admin", "ParticipantRegistry", "requestRecovery", lost, new, second)
    send("enforcer", "ParticipantRegistry", "approveRecovery", lost, second)
    can_move = any(e.get("name") == "recoverTokens" for e in chain.abis["ReceivableToken"])
    held = [t for t in range(1, chain.last_token() + 1) if chain.call("ReceivableToken", "exists", t)]
    held = [t for t in held if chain.call("ReceivableToken", "ownerOf", t) == lost]
    if can_move:
        send("enforcer", "ReceivableToken", "recoverTokens", lost, held, second)
    indexer.sync()

    with Session(db) as s:
        rows = s.exec(select(Recovery).order_by(Recovery.id)).all()  # type: ignore[arg-type]
        assert [(r.state, r.case_ref) for r in rows] == [
            ("cancelled", "0x" + first.hex()),
            ("approved", "0x" + second.hex()),
        ]
        cancelled, approved = rows
        assert (cancelled.cancelled_by, cancelled.approved_by) == (addr("enforcer").lower(), None)
        assert (approved.lost, approved.replacement) == (lost.lower(), new.lower())
        assert (approved.requested_by, approved.approved_by) == (
            addr("admin").lower(),
            addr("enforcer").lower(),
        )
        assert approved.closed_block is not None and approved.closed_block >= approved.requested_block
        lost_row, new_row = s.get(Participant, lost.lower()), s.get(Participant, new.lower())
        assert lost_row is not None and new_row is not None
        assert (lost_row.status, lost_row.roles) == ("recovered", [])
        assert (new_row.status, new_row.roles) == ("active", ["SUPPLIER"])
        assert new_row.legal_id_hash == "0x" + keccak(text="legal-s2").hex()

        view = queries.recovery(s, lost)
        assert view is not None and view.state == "approved"
        assert [v.state for v in queries.recoveries(s, state="cancelled")] == ["cancelled"]
        assert [v.id for v in queries.recoveries(s, replacement=new)] == [cancelled.id, approved.id]
        assert queries.recoveries(s, since_block=approved.closed_block + 1_000) == []
        assert queries.predecessors(s, new) == {lost.lower()} and queries.predecessors(s, lost) == set()
        if can_move:
            assert held and view.tokens_moved == len(held)
            owners = {t.token_id: t.owner for t in s.exec(select(Token)).all() if t.token_id in held}
            assert set(owners.values()) == {new.lower()}
        else:
            assert view.tokens_moved == 0
