"""The bank's 中登网 registration page: each settled financing shows its registration record to
download (JSON and CSV, fetched with the bank's key) and a field for the number 中登网 gave it; a
malformed number is refused with a sentence before anything is sent; a good one is reviewed, recorded
on-chain and shown from then on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.dashboard.fixtures import Scene
from tests.dashboard.test_dashboard import sign_in
from tests.dashboard.test_payments import wait_written

pytestmark = pytest.mark.chain

NUMBER = "04487955000012345678"


def _english(page: Any) -> None:
    if page.get_attribute("html", "lang") != "en":
        page.select_option("#lang-switch", "en")
        page.wait_for_selector("body[data-state='ready']")


def test_a_bank_downloads_a_registration_record_and_records_its_number(
    scene: Scene, api: TestClient, page: Any, tmp_path: Path
) -> None:
    bank = scene.parties["bank"]
    offer = scene.offer_id
    sign_in(page, scene.server, bank.api_key)
    _english(page)
    page.wait_for_selector("#panel-registration[data-status='ready'] tr.registration-row")
    row = page.inner_text("#panel-registration tr.registration-row")
    assert f"#{offer}" in row and f"#{scene.financed_piece}" in row and "50,000.00" in row
    assert "not registered yet" in row

    with page.expect_download() as info:
        page.click(f"#panel-registration button[data-record='{offer}'][data-format='json']")
    saved = tmp_path / "record.json"
    info.value.save_as(saved)
    record = json.loads(saved.read_text(encoding="utf-8"))
    expected = api.get(f"/v1/financing/offers/{offer}/registration", headers=bank.headers).json()
    assert record == expected
    assert info.value.suggested_filename == f"tierchain-registration-offer-{offer}.json"

    with page.expect_download() as info:
        page.click(f"#panel-registration button[data-record='{offer}'][data-format='csv']")
    info.value.save_as(tmp_path / "record.csv")
    raw = (tmp_path / "record.csv").read_bytes()
    served = api.get(f"/v1/financing/offers/{offer}/registration.csv", headers=bank.headers).content
    assert raw == served and raw.startswith(b"\xef\xbb\xbf")
    assert info.value.suggested_filename == f"tierchain-registration-offer-{offer}.csv"

    field = f"#reg-number-{offer}"
    page.fill(field, "not a number!")
    page.click(f"#panel-registration button[data-register='{offer}']")
    problem = page.wait_for_selector("#panel-registration .problem:not([hidden])").inner_text()
    assert "1 to 64 letters, digits or hyphens" in problem
    assert page.is_hidden("#registration-review")

    page.fill(field, NUMBER)
    page.focus(f"#panel-registration button[data-register='{offer}']")
    page.keyboard.press("Enter")
    review = page.wait_for_selector("#registration-review:not([hidden])").inner_text()
    assert NUMBER in review and f"#{offer}" in review
    page.click("#registration-send")
    assert wait_written(page, "panel-registration") == "done", page.inner_text("#panel-registration .problem")
    assert scene.server.ctx.client.registration_of(offer) == NUMBER
    page.wait_for_selector(f"#panel-registration .reg-number[data-number='{NUMBER}']")
    assert NUMBER in page.inner_text("#panel-registration .outcome")
    book = api.get("/v1/financing/book", headers=bank.headers).json()["items"]
    assert [b["registration_number"] for b in book if b["offer_id"] == offer] == [NUMBER]
