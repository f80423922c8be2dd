"""The demo end to end, in-process through its command line with `--json`: one real run on its own
anvil, then the summary's structure and final checks are asserted."""

from __future__ import annotations

import json
from typing import Any

import demo
import pytest
from eth_utils.crypto import keccak
from typer.testing import CliRunner

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    result = CliRunner().invoke(demo.app, ["--json", "--seed", "11"])
    assert result.exit_code == 0, result.stderr or result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_every_final_check_passes(summary: dict[str, Any]) -> None:
    failed = [c for c in summary["checks"] if not (c["ok"] or c["skipped"])]
    assert summary["ok"] and not failed
    names = {c["name"] for c in summary["checks"] if c["ok"]}
    assert {"Σ redeemed values == face", "Σ payouts == paid == face", "no live token left"} <= names


def test_tiers_one_to_five_are_paid(summary: dict[str, Any]) -> None:
    tiers = {a["key"]: a["tier"] for a in summary["actors"]}
    paid_tiers = {tiers[p["received_by"]] for p in summary["pieces"]} - {None}
    assert paid_tiers == {1, 2, 3, 4, 5}
    assert {p["tier"] for p in summary["pieces"]} == {1, 2, 3, 4, 5}
    (root,) = [p for p in summary["pieces"] if p["parent_id"] is None]
    assert root["owner"] == "t1" and root["lineage_on_chain"] == [root["token_id"]]


def test_four_financings_priced_by_the_formula(summary: dict[str, Any]) -> None:
    """Two on the first obligation, without recourse; one on the bill-mode obligation, with recourse; one
    answering tier 3's financing request (stage 12)."""
    deals = summary["financings"]
    assert [(d["bank"], d["day_count"], d["recourse"]) for d in deals] == [
        ("bank_a", "ACT_360", False),
        ("bank_b", "ACT_365F", False),
        ("bank_a", "ACT_360", True),
        ("bank_a", "ACT_360", False),
    ]
    assert all(d["price"] == d["expected_price"] == d["value"] - d["discount"] for d in deals)
    financed = {p["token_id"]: p["financed_by"] for p in summary["pieces"] if p["financed_by"]}
    assert sorted(financed.values()) == ["bank_a", "bank_a", "bank_b"]


def test_each_financing_has_its_registration_record_and_number(summary: dict[str, Any]) -> None:
    """The regulator's export, built from the demo's SQL mirror, has one 中登网 record per financing: the
    seller and the bank by legal name and USCC, the piece and its lineage, and the number the bank
    recorded on-chain after registering."""
    deals = {d["financed_token_id"]: d for d in summary["financings"]}
    records = summary["index"]["registrations"]
    assert sorted(r["piece"] for r in records) == sorted(deals)
    names = {a["key"]: a["name"] for a in summary["actors"]}
    for r in records:
        deal = deals[r["piece"]]
        assert r["registration_number"] == deal["registration_number"]
        assert len(r["registration_number"]) == 20 and r["registration_number"].isdigit()
        assert r["transferor"].startswith(names[deal["holder"]]) and r["transferee"].startswith(
            names[deal["bank"]]
        )
        assert r["value"] == deal["value"] and r["financing_amount"] == deal["price"]
        assert r["lineage"][-1] == r["piece"] and len(r["lineage"]) >= 2


def test_refused_reuse_limit_and_one_freeze(summary: dict[str, Any]) -> None:
    reuse, limit, lost_key = summary["refusals"]
    assert {"ALREADY_ATTESTED", "DocumentAlreadyUsed"} <= set(reuse["codes"])
    assert lost_key["codes"] == ["ParticipantNotActive"]
    assert limit["codes"] == ["CreditLimitExceeded"] and limit["detail"].endswith("nothing moved")
    (freeze,) = summary["freezes"]
    assert freeze["refused_transfer"].startswith("TokenFrozen(")
    assert freeze["frozen_tx"] != freeze["unfrozen_tx"]
    assert [p["frozen_once"] for p in summary["pieces"]].count(True) == 1


def test_everything_redeemed_and_paid_out(summary: dict[str, Any]) -> None:
    pieces = summary["pieces"]
    assert all(p["payout"] == p["value"] for p in pieces)
    assert sum(p["payout"] for p in pieces) == summary["face"] == 100_000_000
    cash = {c["actor"]: c for c in summary["cash"]}
    assert all(c["end"] == c["expected_end"] for c in cash.values())
    assert cash["core"]["repaid"] == summary["face"] + summary["lifecycle"]["paid"]
    assert sum(c["end"] - c["start"] for c in cash.values()) == 0
    stages = {s["step"] for s in summary["steps"]}
    # stage 6 (the reuse) is refused, so it sends nothing; stage 7 attests the documents its refusals cite
    assert stages == {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12}
    assert all(s["gas_used"] > 0 and s["tx_hash"].startswith("0x") for s in summary["steps"])


def test_bill_mode_obligation_refused_accepted_defaulted_and_recovered(summary: dict[str, Any]) -> None:
    """Stage 10: one payment refused (拒收) and merged back, one accepted (签收) and financed with recourse;
    after a partial repayment and the default, the bank's claim is exactly the shortfall of its piece and
    the seller settles it in full."""
    life = summary["lifecycle"]
    assert life["acceptance_window_days"] >= 1
    assert life["pending_after_payment"] == life["accepted_value"] + life["refused_value"]
    assert life["returned_into"] == life["root_token_id"]
    assert life["t1_after_return"] == life["face"] - life["accepted_value"]
    assert 0 < life["paid"] < life["face"]
    ((holder, _piece, value, payout),) = [r for r in life["redemptions"] if r[1] == life["accepted_token_id"]]
    assert holder == "bank_a" and payout == value * life["paid"] // life["face"]
    assert life["shortfall"] == value - payout == sum(life["settlements"]) and len(life["settlements"]) == 2
    assert life["claim_state"] == "settled"
    assert sum(r[2] for r in life["redemptions"]) == life["face"]
    assert sum(r[3] for r in life["redemptions"]) + life["dust"] == life["paid"]
    cash = {c["actor"]: c for c in summary["cash"]}
    assert cash["bank_a"]["recourse_received"] == cash["t2a"]["recourse_paid"] == life["shortfall"]


def test_size_classes_recorded_at_onboarding(summary: dict[str, Any]) -> None:
    sizes = {a["key"]: a["size_class"] for a in summary["actors"]}
    assert sizes["core"] == "large" and sizes["t1"] == "medium"
    assert {sizes[k] for k in ("t2a", "t2b", "t2c", "t3a", "t3b", "t4", "t5")} <= {"small", "micro"}
    assert sizes["bank_a"] is None and sizes["regulator"] is None


def test_runs_under_the_default_policy_and_cites_the_agreed_term(summary: dict[str, Any]) -> None:
    comp = summary["compliance"]
    assert (comp["max_tenor_days"], comp["long_tenor_days"], comp["sme_payment_term_days"]) == (365, 180, 60)
    assert comp["trade_background"]
    assert comp["agreed_term"].startswith("采购合同 ")
    assert comp["agreed_term_ref"] == "0x" + keccak(text=comp["agreed_term"]).hex()


def test_every_tier_to_tier_payment_cites_an_invoice_of_its_parties(summary: dict[str, Any]) -> None:
    comp = summary["compliance"]
    roles = {a["key"]: a["role"] for a in summary["actors"]}
    supplier_pieces = {
        p["token_id"]
        for p in summary["pieces"]
        if p["parent_id"] is not None and roles[p["received_by"]] == "SUPPLIER"
    }
    assert {pay["piece_id"] for pay in comp["payments"]} == supplier_pieces
    invoices = {i["fingerprint"]: i for i in comp["invoices"]}
    for pay in comp["payments"]:
        invoice = invoices[pay["document"]]
        assert (invoice["seller"], invoice["buyer"]) == (pay["receiver"], pay["payer"])
    for fp, invoice in invoices.items():
        cited = sum(pay["value"] for pay in comp["payments"] if pay["document"] == fp)
        assert invoice["moved_value"] == cited == invoice["amount"]
    # tier 4's invoice covered two payments: one before the freeze, one after it was lifted
    assert sorted(len([p for p in comp["payments"] if p["document"] == fp]) for fp in invoices)[-1] == 2


def test_three_compliance_refusals_leave_state_unchanged(summary: dict[str, Any]) -> None:
    refusals = {r["rule"]: r for r in summary["compliance"]["refusals"]}
    assert {rule: r["error_name"] for rule, r in refusals.items()} == {
        "tenor": "TenorTooLong",
        "sme-term": "SmePaymentTermExceeded",
        "trade-background": "TradeBackgroundRequired",
    }
    for r in refusals.values():
        assert r["unchanged"], r
        assert "\n" not in r["sentence"] and r["error_name"] in r["sentence"]
        assert r["error"].startswith(r["error_name"] + "(")
    passed = {c["name"] for c in summary["checks"] if c["ok"]}
    assert {f"{r['error_name']} refused, state unchanged" for r in refusals.values()} <= passed


def _canned_run(ok: bool) -> Any:
    """A finished run as `run_demo` returns it, for the exit-status tests (no chain needed)."""
    from demo_scenario.report import Check, Summary
    from demo_scenario.runner import DemoRun

    from ledger.config import Settings

    summary = Summary(
        seed=1, chain_url="http://127.0.0.1:1", chain_id=31337, contracts={}, face=1, currency="CNY"
    )
    summary.checks = [Check(name="Σ payouts == paid == face", ok=ok, detail="forced")]
    summary.ok = ok
    return DemoRun(summary, Settings(), None)


@pytest.mark.parametrize(("ok", "code"), [(True, 0), (False, 1)])
def test_exit_status_follows_the_final_checks(monkeypatch: pytest.MonkeyPatch, ok: bool, code: int) -> None:
    monkeypatch.setattr(demo, "run_demo", lambda _options: _canned_run(ok))
    result = CliRunner().invoke(demo.app, ["--json"])
    assert result.exit_code == code
    assert json.loads(result.stdout)["ok"] is ok
    assert ("final checks failed" in result.stderr) is not ok


def test_a_broken_scenario_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from demo_scenario.issue import DemoFailure

    def broken(_options: Any) -> Any:
        raise DemoFailure("the oracles did not attest both documents")

    monkeypatch.setattr(demo, "run_demo", broken)
    result = CliRunner().invoke(demo.app, [])
    assert result.exit_code == 2 and "did not attest" in result.output


def test_a_lost_key_is_recovered_with_its_pieces(summary: dict[str, Any]) -> None:
    """Stage 11: the tier-5 supplier's record and pieces move to a new key under a case reference; the pieces
    keep their ids, values and lineage; the new key redeems them; the lost address is refused."""
    r = summary["recovery"]
    assert r["supplier"] == "t5" and r["kept"] and r["record_moved"] and r["token_ids"]
    assert r["lost"].lower() != r["replacement"].lower() and r["case"]
    pieces = {p["token_id"]: p for p in summary["pieces"]}
    assert all(
        pieces[t]["owner"] == "t5_new" and pieces[t]["payout"] == pieces[t]["value"] for t in r["token_ids"]
    )
    assert sum(pieces[t]["value"] for t in r["token_ids"]) == r["value"]
    actors = {a["key"]: a for a in summary["actors"]}
    assert actors["t5_new"]["address"].lower() == r["replacement"].lower()
    assert actors["t5_new"]["legal_id_hash"] == actors["t5"]["legal_id_hash"]
    recovered = [s for s in summary["steps"] if s["step"] == 11]
    assert [s["actor"] for s in recovered][:2] == ["admin", "court"] and len(recovered) >= 3


def test_a_financing_request_is_answered_by_two_banks(summary: dict[str, Any]) -> None:
    """Stage 12: tier 3 (a) asks both banks through the API; each signs its offer and names it against the
    request; the better price is accepted, the other offer lapses, and the financing settles as DvP."""
    m = summary["market"]
    assert m["holder"] == "t3a" and m["status"] == "accepted"
    offers = {o["offer_id"]: o for o in m["offers"]}
    assert {o["bank"] for o in offers.values()} == {"bank_a", "bank_b"}
    best = max(offers, key=lambda i: offers[i]["price"])
    assert m["accepted_offer_id"] == m["best_offer_id"] == best
    assert m["lapsed"] == [i for i in offers if i != best]
    deal = next(
        f for f in summary["financings"] if f["token_id"] == m["token_id"] and f["value"] == m["asked"]
    )
    assert deal["bank"] == offers[best]["bank"] and deal["price"] == offers[best]["price"]
    assert all(o["quoted"] >= o["price"] > 0 for o in offers.values())  # quoted before, priced later: days ≤
