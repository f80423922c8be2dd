"""The regulator's search, recoveries and reports in the browser, in Chinese: a search by legal name,
by address, by obligation and by document fingerprint, each hit named and opening its lineage picture;
the list of lost-key recoveries; the periodic report (数据报送) for a chosen period as a table, its CSV
and the audit export downloaded with the regulator's key and compared with what the API serves."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from tests.dashboard.fixtures import Scene
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import named_supplier

pytestmark = pytest.mark.chain

NAME = "宁波监管查询测试有限公司"
PERIOD = {"from": "2020-01-01", "to": "2099-12-31"}
OPEN, CLOSE = "\uff08", "\uff09"  # the full-width brackets of Chinese text
CASE = f"{OPEN}2026{CLOSE}浙0203执77号"


def _count(title: str, n: int) -> str:
    """A section title of the results as the page writes it, e.g. 凭证 (2) with full-width brackets."""
    return f"{title}{OPEN}{n}{CLOSE}"


def _search(tab: Any, text: str) -> str:
    tab.fill("#search-q", text)
    tab.press("#search-q", "Enter")
    tab.wait_for_selector("#panel-search[data-status='ready'] .search-summary")
    found: str = tab.inner_text("#panel-search .body")
    return found


def _lineage_of(tab: Any, token: int) -> None:
    tab.wait_for_selector(f"#panel-lineage[data-status='ready'] .lineage-svg .node[data-token-id='{token}']")
    assert tab.input_value("#lineage-token") == str(token)


def test_the_regulator_searches_reads_recoveries_and_downloads_reports(
    scene: Scene,
    api: TestClient,
    operator_headers: dict[str, str],
    chinese_page: Any,
    tmp_path: Path,
) -> None:
    regulator = scene.parties["regulator"]
    named = named_supplier(api, operator_headers, NAME, 7)
    case = {"replacement": Account.create().address, "case_ref": CASE}
    asked = api.post(f"/v1/participants/{named}/recovery", json=case, headers=operator_headers)
    assert asked.status_code == 201, asked.text
    scene.server.ctx.sync()

    tab = chinese_page
    sign_in(tab, scene.server, regulator.api_key)
    for panel in ("panel-search", "panel-recoveries", "panel-reports"):
        tab.wait_for_selector(f"#{panel}[data-status='ready']")
    assert tab.inner_text("#h-search") == "查询"

    # by part of a legal name: the directory gives the address, the search names it
    found = _search(tab, "监管查询测试")
    assert NAME in found and "供应商" in found and _count("参与方", 1) in found

    # by address: the participant and the pieces it holds, each with its lineage
    tier2 = scene.parties["tier2"]
    found = _search(tab, tier2.address)
    assert f"凭证{OPEN}" in found and f"#{scene.tier2_piece}" in found
    tab.click(f"#panel-search button[data-lineage='{scene.tier2_piece}']")
    _lineage_of(tab, scene.tier2_piece)

    # by obligation: its obligor by name... and the root's lineage
    found = _search(tab, str(scene.slot))
    assert _count("债务", 1) in found and "¥1,000,000.00" in found
    tab.click(f"#panel-search button[data-lineage='{scene.root}']")
    _lineage_of(tab, scene.root)

    # by document: the invoice behind the obligation
    fingerprint = api.get(f"/v1/obligations/{scene.slot}", headers=regulator.headers).json()["documents"][0]
    found = _search(tab, fingerprint)
    assert _count("单据", 1) in found and "发票" in found
    assert tab.query_selector(f"#panel-search button[data-lineage='{scene.root}']") is not None

    # something that is none of these: a sentence, nothing sent
    tab.fill("#search-q", "不存在的名称")
    tab.press("#search-q", "Enter")
    assert "法定名称" in tab.wait_for_selector("#panel-search .problem:not([hidden])").inner_text()

    # recoveries: the one requested, by name, with its case as written
    row = tab.inner_text("#panel-recoveries tr.recovery-row")
    assert NAME in row and CASE in row and "已申请" in row

    # the periodic report of a period, as a table; its CSV and the audit export as files
    tab.fill("#report-from", PERIOD["from"])
    tab.fill("#report-to", PERIOD["to"])
    tab.click("#report-show")
    tab.wait_for_selector("#panel-reports[data-status='ready'] tr.report-total")
    report = api.get("/v1/regulator/reports/periodic", params=PERIOD, headers=regulator.headers).json()
    total = tab.inner_text("#panel-reports tr.report-total")
    # amounts in minor units of every currency together: shown as numbers, each with its count
    assert report["totals"]["issued"]["amount"] == 1_000_000_00 and "1,000,000.00 (1)" in total
    assert "合计" in total
    bank_row = tab.inner_text("#panel-reports tr.report-bank")
    assert f"{report['by_bank'][0]['financed']['amount'] // 100:,}.00 (1)" in bank_row
    check = tab.get_attribute("#panel-reports .report-check", "data-reconciled")
    assert check == str(report["reconciliation"]["reconciled"]).lower()

    with tab.expect_download() as info:
        tab.click("#report-csv")
    info.value.save_as(tmp_path / "periodic.csv")
    served = api.get("/v1/regulator/reports/periodic.csv", params=PERIOD, headers=regulator.headers)
    assert (tmp_path / "periodic.csv").read_bytes() == served.content
    assert info.value.suggested_filename == "tierchain-periodic-2020-01-01-2099-12-31.csv"

    with tab.expect_download() as info:
        tab.click("#audit-csv")
    info.value.save_as(tmp_path / "audit.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "audit.csv").read_text(encoding="utf-8-sig"))))
    audit = api.get("/v1/regulator/audit", params=PERIOD, headers=regulator.headers).json()
    assert len(rows) - 1 == audit["count"] > 0
    tab.wait_for_selector("#panel-reports[data-download='done']")
