"""Regulatory exports over HTTP and the CLI, on a real lifecycle: the participant directory, the
中登网 registration records of financings (JSON and CSV) and the periodic report (数据报送), whose
totals must agree with the indexer and, through its reconciliation section, with the chain. The
lifecycle runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from ledger.config import NetworkConfig
from ledger.deploy import Deployment, manifest_path
from ledger.indexer.db import make_engine
from ledger.regulatory.csvout import BOM, yuan
from ledger.regulatory.period import shanghai_date
from ledger.regulatory.uscc import ALPHABET, check_character
from tests.api.support import DAY, ApiWorld, Party, onboard
from tierchain.cli import app as cli

pytestmark = pytest.mark.chain

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FACE = 1_000_000_00
CASH = 10_000_000_00
CORE_NAME, TIER1_NAME, BANK_NAME = (
    "华信汽车股份有限公司",
    "苏州精密零件有限公司",
    "中国工商银行股份有限公司苏州分行",
)


def uscc(seed: int) -> str:
    """A valid code (right check character), unique per call."""
    digits = f"{time.time_ns() + seed:017d}"[-9:]
    body = "91320500" + "".join(ALPHABET[int(d) + 10] for d in digits)
    return body + check_character(body)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'exports.sqlite'}"
        return
    try:
        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    name = f"tc_exports_{uuid.uuid4().hex[:12]}"  # a database of its own: the API migrates into it
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.engine.dispose()


@pytest.fixture
def exports_api(
    api_world: ApiWorld,
    database_url: str,
    local_network: NetworkConfig,
    tierchain_deployment: Deployment,
    tierchain_abis: dict[str, list[dict[str, Any]]],
) -> Iterator[TestClient]:
    """The API of `api_world` on the parametrized database."""
    settings = api_world.settings.model_copy(update={"database_url": database_url})
    app = create_app(
        settings,
        api_world.api_settings,
        network=local_network,
        deployment=tierchain_deployment,
        operator=api_world.actors["admin"],
        abis=tierchain_abis,
    )
    client = TestClient(app)
    yield client
    client.app.state.ctx.close()  # type: ignore[attr-defined]


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Life:
    parties: dict[str, Party]
    codes: dict[str, str]
    slot: int
    root: int
    piece2: int
    fingerprint: str
    offers: dict[str, int]  # "tier2" / "tier1" → offer id
    prices: dict[str, int]
    pieces: dict[str, int]  # → the bank's financed piece
    first_day: str
    last_day: str


def _named(api: TestClient, headers: dict[str, str], name: str, legal_name: str | None, code: str) -> Party:
    roles = {"core": ["CORE_ENTERPRISE"], "tier1": ["SUPPLIER"], "bank": ["BANK"]}[name]
    body: dict[str, Any] = {"legal_id": code, "roles": roles, "custody": "custodial"}
    if legal_name is not None:
        body["legal_name"] = legal_name
    answer = _ok(api.post("/v1/participants", json=body, headers=headers), 201)
    return Party(name, answer["participant"]["address"], answer["api_key"], answer["key_id"])


def _lifecycle(api: TestClient, world: ApiWorld, operator: dict[str, str]) -> Life:
    """core and tier1 onboarded with their legal names, the bank's name recorded afterwards, tier2
    without any; issue, split to tier2, two financings, overdue, repaid."""
    client, admin = world.client, world.actors["admin"]
    first_day = shanghai_date(world.now).isoformat()
    codes = {name: uscc(i) for i, name in enumerate(("core", "tier1", "bank"))}
    parties = {
        "core": _named(api, operator, "core", CORE_NAME, codes["core"]),
        "tier1": _named(api, operator, "tier1", TIER1_NAME, codes["tier1"]),
        "bank": _named(api, operator, "bank", None, codes["bank"]),
    }
    for name, roles, custody in (
        ("tier2", ["SUPPLIER"], "custodial"),
        ("outsider", ["SUPPLIER"], "self"),
        ("regulator", ["REGULATOR"], "self"),
        ("oracle1", ["ORACLE"], "self"),
        ("oracle2", ["ORACLE"], "self"),
    ):
        parties[name] = onboard(
            api, operator, name, roles, custody, world.actors[name] if custody == "self" else None
        )
    bank, core, tier1, tier2 = parties["bank"], parties["core"], parties["tier1"], parties["tier2"]
    profile = {"legal_name": BANK_NAME, "uscc": codes["bank"]}
    _ok(api.put(f"/v1/participants/{bank.address}/profile", json=profile, headers=operator))
    client.mint(admin, "CNY", bank.address, CASH)
    client.mint(admin, "CNY", core.address, CASH)

    fingerprint = world.attest_invoice(FACE, tier1.address, core.address)
    proposal = {
        "obligor": core.address,
        "currency": "CNY",
        "face": FACE,
        "maturity": world.now + 90 * DAY,
        "min_unit": 100,
        "documents": [fingerprint],
    }
    proposal_id = _ok(api.post("/v1/obligations/proposals", json=proposal, headers=tier1.headers), 201)[
        "result"
    ]["proposal_id"]
    issued = _ok(api.post(f"/v1/obligations/proposals/{proposal_id}/confirm", headers=core.headers))["result"]
    slot, root = issued["slot"], issued["token_id"]
    split = {"pieces": [{"to": tier2.address, "value": 400_000_00}]}
    piece2 = _ok(api.post(f"/v1/tokens/{root}/split", json=split, headers=tier1.headers))["result"][
        "token_id"
    ]

    offers, prices, pieces = {}, {}, {}
    for holder, token, value in (("tier2", piece2, 200_000_00), ("tier1", root, 100_000_00)):
        seller = parties[holder]
        asked = {"token_id": token, "bank": bank.address}
        _ok(api.post("/v1/financing/requests", json=asked, headers=seller.headers), 201)
        offer = {"token_id": token, "value": value, "rate_bps": 1200, "expiry": world.now + 7 * DAY}
        offers[holder] = _ok(api.post("/v1/financing/offers", json=offer, headers=bank.headers), 201)[
            "result"
        ]["offer_id"]
        financed = _ok(api.post(f"/v1/financing/offers/{offers[holder]}/accept", headers=seller.headers))[
            "result"
        ]
        prices[holder], pieces[holder] = financed["price"], financed["financed_token_id"]

    world.chain.increase_time(91 * DAY)
    world.chain.mine()
    _ok(api.post(f"/v1/repayment/obligations/{slot}/mark-overdue", headers=core.headers))
    paid = _ok(api.post("/v1/repayment/deposits", json={"slot": slot, "amount": FACE}, headers=core.headers))
    assert paid["result"]["repaid"] is True
    api.app.state.ctx.sync()  # type: ignore[attr-defined]
    last_day = shanghai_date(world.now).isoformat()
    return Life(parties, codes, slot, root, piece2, fingerprint, offers, prices, pieces, first_day, last_day)


def _csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith(BOM)
    return list(csv.DictReader(io.StringIO(body[len(BOM) :])))


def test_registrations_and_periodic_report_reconcile(
    exports_api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    api = exports_api
    life = _lifecycle(api, api_world, operator_headers)
    p = life.parties
    regulator = p["regulator"].headers
    period = {"from": life.first_day, "to": life.last_day}

    # the directory: read by the regulator, the operator and the participant itself
    core_profile = _ok(api.get(f"/v1/participants/{p['core'].address}/profile", headers=p["core"].headers))
    assert (core_profile["legal_name"], core_profile["uscc"]) == (CORE_NAME, life.codes["core"])
    assert (
        _ok(api.get(f"/v1/participants/{p['tier2'].address}/profile", headers=regulator))["on_file"] is False
    )
    denied = api.get(f"/v1/participants/{p['core'].address}/profile", headers=p["tier1"].headers)
    assert denied.status_code == 403 and "REGULATOR" in denied.json()["detail"]

    # registration records: every financing, its parties by name (or the marker), property and lineage
    export = _ok(api.get("/v1/regulator/registrations", params=period, headers=regulator))
    assert export["count"] == 2
    open_ended = _ok(api.get("/v1/regulator/registrations", headers=regulator))
    assert (open_ended["period_from"], open_ended["period_to"], open_ended["records"]) == (
        "start",
        "head",
        export["records"],
    )
    by_offer = {r["offer_id"]: r for r in export["records"]}
    named = by_offer[life.offers["tier1"]]
    assert named["registration_type"] == "应收账款转让"
    assert (named["transferor"]["legal_name"], named["transferor"]["uscc"]) == (
        TIER1_NAME,
        life.codes["tier1"],
    )
    assert (named["transferee"]["legal_name"], named["transferee"]["uscc"]) == (BANK_NAME, life.codes["bank"])
    prop = named["property"]
    assert (prop["obligor"]["legal_name"], prop["slot"], prop["face"], prop["currency"]) == (
        CORE_NAME,
        life.slot,
        FACE,
        "CNY",
    )
    assert prop["lineage"] == [life.root, life.pieces["tier1"]] and prop["value"] == 100_000_00
    assert [d["fingerprint"] for d in prop["documents"]] == [life.fingerprint]
    assert named["financing_amount"] == life.prices["tier1"] and named["tx_hash"].startswith("0x")
    unnamed = by_offer[life.offers["tier2"]]
    assert unnamed["transferor"] == {
        "address": p["tier2"].address,
        "legal_name": None,
        "uscc": None,
        "on_file": False,
        "note": "no legal name on file",
    }
    assert unnamed["property"]["lineage"] == [life.root, life.piece2, life.pieces["tier2"]]

    rows = _csv_rows(api.get("/v1/regulator/registrations.csv", params=period, headers=regulator))
    assert len(rows) == 2
    row = next(r for r in rows if r["融资编号(offer_id)"] == str(life.offers["tier2"]))
    assert "no legal name on file" in row["出让人名称(transferor_name)"]
    assert row["受让人名称(transferee_name)"] == BANK_NAME
    assert row["拆分路径(lineage)"] == f"{life.root}>{life.piece2}>{life.pieces['tier2']}"
    assert int(row["融资金额分(financing_amount_minor)"]) == life.prices["tier2"]
    assert row["融资金额元(financing_amount_yuan)"] == yuan(life.prices["tier2"])
    assert row["贸易单据指纹(document_fingerprints)"] == life.fingerprint

    # one financing's record: its bank and its transferor read it; others do not
    path = f"/v1/financing/offers/{life.offers['tier2']}/registration"
    assert _ok(api.get(path, headers=p["bank"].headers)) == unnamed
    assert _ok(api.get(path, headers=p["tier2"].headers)) == unnamed
    assert _ok(api.get(path, headers=operator_headers)) == unnamed
    assert len(_csv_rows(api.get(path + ".csv", headers=regulator))) == 1
    for other in ("tier1", "outsider"):
        assert api.get(path, headers=p[other].headers).status_code == 404  # not theirs: as if absent
    refused = api.get(path, headers=p["core"].headers)
    assert refused.status_code == 403 and "BANK, SUPPLIER, REGULATOR, OPERATOR" in refused.json()["detail"]
    listed = api.get("/v1/regulator/registrations", headers=p["tier1"].headers)
    assert listed.status_code == 403 and "REGULATOR, OPERATOR" in listed.json()["detail"]

    # the bank records the number 中登网 gave; the record, the CSV and the offer show it
    number_path = f"/v1/financing/offers/{life.offers['tier2']}/registration-number"
    number = "04487955000012345678"
    seller = api.post(number_path, json={"registration_number": number}, headers=p["tier2"].headers)
    assert seller.status_code == 403
    malformed = api.post(number_path, json={"registration_number": "0448 7955"}, headers=p["bank"].headers)
    assert malformed.status_code == 422 and malformed.json()["field"] == "registration_number"
    recorded = api.post(number_path, json={"registration_number": number}, headers=p["bank"].headers)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["result"] == {
        "offer_id": life.offers["tier2"],
        "registration_number": number,
        "previous": "",
    }
    assert _ok(api.get(path, headers=regulator))["registration_number"] == number
    [row] = _csv_rows(api.get(path + ".csv", headers=regulator))
    assert row["登记编号(registration_number)"] == number
    offer_view = _ok(api.get(f"/v1/financing/offers/{life.offers['tier2']}", headers=p["bank"].headers))
    assert offer_view["registration_number"] == number

    # the periodic report: flows, breakdowns, totals, and its reconciliation with the chain
    report = _ok(api.get("/v1/regulator/reports/periodic", params=period, headers=regulator))
    totals = report["totals"]
    financed_value = 300_000_00
    assert totals["issued"] == {"count": 1, "amount": FACE}
    assert totals["transferred"] == {"count": 1, "amount": 400_000_00}
    assert totals["financed"] == {"count": 2, "amount": financed_value}
    assert totals["financing_price"] == sum(life.prices.values())
    assert totals["overdue"] == {"count": 1, "amount": FACE}
    assert totals["repaid"] == {"count": 1, "amount": FACE}
    assert totals["defaulted"] == {"count": 0, "amount": 0}
    [core_line] = report["by_core_enterprise"]
    assert core_line["key"] == p["core"].address and core_line["legal_name"] == CORE_NAME
    tiers = {t["key"]: t for t in report["by_tier"]}
    assert tiers["1"]["issued"]["count"] == 1 and tiers["2"]["transferred"]["amount"] == 400_000_00
    assert tiers["1"]["financed"]["amount"] == 100_000_00 and tiers["2"]["financed"]["amount"] == 200_000_00
    for flow in ("issued", "transferred", "financed"):
        assert sum(t[flow]["amount"] for t in report["by_tier"]) == totals[flow]["amount"]
    [bank_line] = report["by_bank"]
    assert bank_line["legal_name"] == BANK_NAME and bank_line["financed"] == totals["financed"]
    assert bank_line["repaid"] == {"count": 1, "amount": financed_value}
    reconciled = report["reconciliation"]
    assert reconciled["reconciled"] is True and reconciled["obligations"] == 1, reconciled
    assert reconciled["at_block"] == api_world.client.w3.eth.block_number

    # the same totals from the indexer's own reads
    exposure = _ok(api.get("/v1/regulator/exposures/obligors", headers=regulator))
    assert sum(e["face"] for e in exposure) == totals["issued"]["amount"]
    book = _ok(api.get("/v1/financing/book", params={"bank": p["bank"].address}, headers=regulator))["items"]
    assert sum(b["value"] for b in book) == financed_value
    assert sum(b["price"] for b in book) == totals["financing_price"]

    rows = _csv_rows(api.get("/v1/regulator/reports/periodic.csv", params=period, headers=regulator))
    total_rows = {r["业务(flow)"]: r for r in rows if r["维度(dimension)"] == "合计(total)"}
    assert int(total_rows["签发(issued)"]["金额分(amount_minor)"]) == FACE
    assert total_rows["融资(financed)"]["金额元(amount_yuan)"] == yuan(financed_value)
    checks = [r for r in rows if r["维度(dimension)"] == "对账(reconciliation)"]
    assert checks and all(r["名称(legal_name)"] == "一致(ok)" for r in checks)

    # a period before anything happened is empty, and still reconciles
    before = shanghai_date(api_world.now - 400 * DAY).isoformat()
    empty = _ok(
        api.get("/v1/regulator/reports/periodic", params={"from": before, "to": before}, headers=regulator)
    )
    assert empty["totals"]["issued"]["count"] == 0 and empty["reconciliation"]["reconciled"] is True


def test_directory_refusals_and_bad_periods(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str]
) -> None:
    code = uscc(7)
    body = {
        "legal_id": code[:-1] + ("0" if code[-1] != "0" else "1"),
        "roles": ["SUPPLIER"],
        "legal_name": TIER1_NAME,
    }
    bad = api.post("/v1/participants", json=body, headers=operator_headers)
    assert bad.status_code == 422 and "check character" in bad.text and "legal_id" in bad.text
    supplier = _ok(
        api.post(
            "/v1/participants", json={"legal_id": code, "roles": ["SUPPLIER"]}, headers=operator_headers
        ),
        201,
    )
    address = supplier["participant"]["address"]
    other = uscc(8)
    wrong = api.put(
        f"/v1/participants/{address}/profile",
        json={"legal_name": TIER1_NAME, "uscc": other},
        headers=operator_headers,
    )
    assert (
        wrong.status_code == 422
        and "does not match the legal id registered on-chain" in wrong.json()["detail"]
    )
    malformed = api.put(
        f"/v1/participants/{address}/profile",
        json={"legal_name": TIER1_NAME, "uscc": "91X"},
        headers=operator_headers,
    )
    assert malformed.status_code == 422 and "18 characters" in malformed.text
    saved = _ok(
        api.put(
            f"/v1/participants/{address}/profile",
            json={"legal_name": TIER1_NAME, "uscc": code},
            headers=operator_headers,
        )
    )
    assert saved["on_file"] is True and saved["legal_name"] == TIER1_NAME

    reversed_ = api.get(
        "/v1/regulator/reports/periodic",
        params={"from": "2026-02-02", "to": "2026-02-01"},
        headers=operator_headers,
    )
    assert reversed_.status_code == 422 and "reversed" in reversed_.json()["detail"]
    assert reversed_.headers["content-type"].startswith("application/problem+json")
    not_a_day = api.get(
        "/v1/regulator/registrations", params={"from": "2026-02-30"}, headers=operator_headers
    )
    assert not_a_day.status_code == 422
    missing = api.get(
        "/v1/regulator/reports/periodic", params={"from": "2026-02-01"}, headers=operator_headers
    )
    assert missing.status_code == 422


@pytest.fixture
def cli_settings(
    api_world: ApiWorld,
    tierchain_deployment: Deployment,
    project_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The CLI's settings pointing at the API's database, the session chain and its deployment."""
    anvil = api_world.chain
    data_dir = tmp_path / "cli-data"
    (data_dir / "local").mkdir(parents=True)
    shutil.copy(anvil.run_file, data_dir / "local" / "anvil.json")
    manifest = manifest_path(data_dir, "local")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(tierchain_deployment.model_dump_json(indent=2))
    config_dir = tmp_path / "chain_config"
    config_dir.mkdir()
    local = (project_root / "chain_config" / "local.toml").read_text()
    (config_dir / "local.toml").write_text(local.replace('"http://127.0.0.1:8545"', f'"{anvil.url}"'))
    env = {
        "TIERCHAIN_PROJECT_ROOT": project_root,
        "TIERCHAIN_CHAIN_CONFIG_DIR": config_dir,
        "TIERCHAIN_DATA_DIR": data_dir,
        "TIERCHAIN_BUILD_DIR": project_root / "build",
        "TIERCHAIN_DATABASE_URL": api_world.settings.database_url,
        "TIERCHAIN_NETWORK": "local",
        "TIERCHAIN_LOG_LEVEL": "WARNING",
        "TIERCHAIN_NO_PROGRESS": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))


def test_cli_reports_match_the_api(
    api: TestClient, api_world: ApiWorld, operator_headers: dict[str, str], cli_settings: None, tmp_path: Path
) -> None:
    life = _lifecycle(api, api_world, operator_headers)
    runner = CliRunner()
    span = ["--from", life.first_day, "--to", life.last_day]
    regs = runner.invoke(cli, ["report", "registrations", *span, "--json"])
    assert regs.exit_code == 0, regs.output
    via_api = _ok(
        api.get(
            "/v1/regulator/registrations",
            params={"from": life.first_day, "to": life.last_day},
            headers=operator_headers,
        )
    )
    assert json.loads(regs.stdout) == via_api

    out = tmp_path / "registrations.csv"
    written = runner.invoke(cli, ["report", "registrations", *span, "--csv", str(out)])
    assert written.exit_code == 0, written.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["融资编号(offer_id)"] for r in rows} == {str(o) for o in life.offers.values()}

    periodic_csv = tmp_path / "periodic.csv"
    report = runner.invoke(cli, ["report", "regulatory", *span, "--json", "--csv", str(periodic_csv)])
    assert report.exit_code == 0, report.output
    answer = json.loads(report.stdout)
    assert answer["reconciliation"]["reconciled"] is True
    assert answer["totals"]["financed"] == {"count": 2, "amount": 300_000_00}
    assert periodic_csv.read_bytes().startswith(BOM.encode("utf-8"))
    shown = runner.invoke(cli, ["report", "regulatory", *span])
    assert shown.exit_code == 0 and "reconciliation at block" in shown.output, shown.output

    reversed_ = runner.invoke(cli, ["report", "regulatory", "--from", "2026-02-02", "--to", "2026-02-01"])
    assert reversed_.exit_code == 1 and "reversed" in reversed_.output
    bad = runner.invoke(cli, ["report", "registrations", "--from", "2026-13-01"])
    assert bad.exit_code == 1 and "is not a date" in bad.output
