"""The dashboard in a real browser over real HTTP: each role signs in with its API key and sees its
panels; the lineage picture has the right pieces, tiers and marks; the regulator freezes a piece and
the chain agrees. Screenshots land in build/screenshots/ and are checked, not just written."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dashboard.fixtures import LiveServer, Scene
from tests.dashboard.png import Image, decode

pytestmark = pytest.mark.chain

FREEZE_ROUTE = re.compile(r"^/v1/regulator/tokens/\{[^}]+\}/freeze$")
RED = (0xDC, 0x26, 0x26)  # --frozen in style.css
BLUE = (0x02, 0x84, 0xC7)  # --financed


# ------------------------------------------------------------------------------------ helpers


def sign_in(page: Any, server: LiveServer, api_key: str) -> None:
    page.goto(f"{server.url}/")
    page.wait_for_selector("body[data-state='signed-out']")
    page.fill("#api-key", api_key)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("body[data-state='ready']")


def visible_panels(page: Any) -> set[str]:
    return set(page.eval_on_selector_all(".panel:not([hidden])", "els => els.map(e => e.id)"))


def table_token_ids(page: Any, panel: str) -> set[int]:
    cells = page.eval_on_selector_all(f"#{panel} td.token-id", "els => els.map(e => e.textContent)")
    return {int(c.lstrip("#")) for c in cells}


def open_lineage(page: Any, token_id: int) -> None:
    page.click(f"button[data-lineage='{token_id}']")
    page.wait_for_selector(
        f"#panel-lineage[data-status='ready'] .lineage-svg .node.focus[data-token-id='{token_id}']"
    )


def lineage_nodes(page: Any) -> list[dict[str, Any]]:
    return list(
        page.eval_on_selector_all(
            ".lineage-svg .nodes .node",
            """els => els.map(e => ({
                id: Number(e.dataset.tokenId), depth: Number(e.dataset.depth),
                classes: [...e.classList], text: e.textContent}))""",
        )
    )


def assert_edges_follow_parents(page: Any) -> None:
    """Every edge runs from a piece's parent down to the piece, one tier apart."""
    edges = page.eval_on_selector_all(
        ".lineage-svg .edge", "els => els.map(e => [Number(e.dataset.from), Number(e.dataset.to)])"
    )
    nodes = {n["id"]: n for n in lineage_nodes(page)}
    parents = dict(
        page.eval_on_selector_all(
            ".lineage-svg .nodes .node",
            "els => els.map(e => [Number(e.dataset.tokenId), Number(e.dataset.parentId || 0)])",
        )
    )
    assert len(edges) == len(nodes) - 1
    for source, target in edges:
        assert parents[target] == source and nodes[target]["depth"] == nodes[source]["depth"] + 1


def near(pixel: tuple[int, int, int], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def shot(page: Any, path: Path, *, selector: str | None = None) -> Image:
    """Screenshot (the page, or one element), then check it is a real, non-trivial PNG."""
    if selector is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        page.locator(selector).screenshot(path=str(path))
    assert path.exists()
    assert 5_000 < path.stat().st_size < 8_000_000, f"{path} is {path.stat().st_size} bytes"
    image = decode(path)
    assert image.width >= 300 and image.height >= 150
    colours = Counter(image.region(0, 0, image.width, image.height))
    assert len(colours) > 20, f"{path} is nearly one colour"
    return image


def panel_settled(page: Any, panel: str) -> str:
    page.wait_for_selector(f"#{panel}[data-status]:not([data-status='loading'])")
    status: str = page.get_attribute(f"#{panel}", "data-status")
    assert status in ("ready", "unavailable"), f"{panel} is {status}: {page.inner_text('#' + panel)}"
    if status == "unavailable":
        assert "Not available" in page.inner_text(f"#{panel} .body")
    return status


def last_action(page: Any, panel: str) -> str:
    """Wait for the freeze/unfreeze answer; a refusal fails with the problem the page shows."""
    page.wait_for_selector("body[data-last-action]", state="attached")
    action: str = page.get_attribute("body", "data-last-action")
    page.evaluate("delete document.body.dataset.lastAction")
    if action.startswith("refused"):
        return f"{action}: {page.inner_text(f'#{panel} .problem')}"
    return action


def has_freeze_route(server: LiveServer) -> bool:
    return any(FREEZE_ROUTE.match(path) for path in server.app.openapi()["paths"])


# ------------------------------------------------------------------------------------ serving


def test_dashboard_files_are_served_with_a_strict_policy(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        home = http.get("/", follow_redirects=False)
        assert home.status_code == 307 and home.headers["location"] == "/dashboard/"
        page = http.get("/dashboard/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert '<script type="module" src="app.js">' in page.text
        assets = (("app.js", "text/javascript"), ("lineage.js", "text/javascript"), ("style.css", "text/css"))
        for name, media in assets:
            asset = http.get(f"/dashboard/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
            assert asset.headers["x-content-type-options"] == "nosniff"
        assert "https://" not in http.get("/dashboard/app.js").text  # nothing fetched from elsewhere
        traversal = "/dashboard/%2e%2e%2f%2e%2e%2fpyproject.toml"
        for missing in ("/dashboard/nope.js", "/dashboard/..%2Fapp.py", traversal):
            answer = http.get(missing)
            assert answer.status_code == 404, missing
            assert answer.headers["content-type"].startswith("application/problem+json")
        paths = http.get("/v1/openapi.json").json()["paths"]
        assert not any(p.startswith("/dashboard") or p == "/" for p in paths)


def test_money_is_formatted_exactly_from_minor_units(live_server: LiveServer, page: Any) -> None:
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("body[data-state='signed-out']")
    got = page.evaluate(
        """async () => {
            const m = await import('./money.js');
            const { parseJson } = await import('./api.js');
            const big = parseJson('{"v": 123456789012345678901234567891}').v;
            return [m.formatMinor(0), m.formatMinor(5), m.formatMinor(100), m.formatMinor(123456789),
                    m.formatMinor(-1050), m.formatMinor("99999999999999999999"), m.formatMinor(big),
                    typeof big, m.formatMoney(100000000, "CNY"), m.formatMinor(null),
                    String(m.sumMinor([1, "2", 3n]))];
        }"""
    )
    assert got == [
        "0.00",
        "0.05",
        "1.00",
        "1,234,567.89",
        "-10.50",
        "999,999,999,999,999,999.99",
        "1,234,567,890,123,456,789,012,345,678.91",
        "bigint",
        "1,000,000.00 CNY",
        "—",
        "6",
    ]


# ------------------------------------------------------------------------------------ sessions


def test_sign_in_keeps_the_key_for_the_tab_and_sign_out_forgets_it(scene: Scene, page: Any) -> None:
    page.goto(f"{scene.url}/")
    page.wait_for_selector("body[data-state='signed-out']")
    page.fill("#api-key", "tc_nobody_wrong-secret")
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#sign-in-problem:not([hidden])")
    assert "401" in page.inner_text("#sign-in-problem")
    assert page.evaluate("sessionStorage.getItem('tierchain.apiKey')") is None

    tier1 = scene.parties["tier1"]
    sign_in(page, scene.server, tier1.api_key)
    assert page.evaluate("sessionStorage.getItem('tierchain.apiKey')") == tier1.api_key
    assert page.get_attribute("#who-address", "title") == tier1.address
    page.reload()
    page.wait_for_selector("body[data-state='ready']")  # still signed in after a reload
    assert page.is_visible("#panel-holdings")

    page.click("#sign-out")
    page.wait_for_selector("body[data-state='signed-out']")
    assert page.evaluate("sessionStorage.getItem('tierchain.apiKey')") is None
    assert page.is_visible("#sign-in") and not page.is_visible("#dashboard")
    assert page.inner_text("#panel-holdings .body") == ""


# ------------------------------------------------------------------------------------ roles


def test_supplier_sees_its_holdings_and_the_pieces_it_split_off(
    scene: Scene, page: Any, screenshots: Path
) -> None:
    sign_in(page, scene.server, scene.parties["tier2"].api_key)
    assert visible_panels(page) == {
        "panel-holdings",
        "panel-pay",
        "panel-incoming",
        "panel-offers",
        "panel-recourse",
        "panel-propose",
        "panel-redeem",
        "panel-history",
        "panel-obligations",
        "panel-lineage",
        "panel-calendar",
    }
    panel_settled(page, "panel-holdings")
    assert table_token_ids(page, "panel-holdings") == {scene.tier2_piece}
    assert "CN¥150,000.00" in page.inner_text("#panel-holdings")  # 400,000 - 200,000 split - 50,000 financed

    page.wait_for_selector(".lineage-svg")
    nodes = {n["id"]: n for n in lineage_nodes(page)}
    expected = {scene.root, scene.tier2_piece, scene.frozen_piece, scene.open_piece, scene.financed_piece}
    assert set(nodes) == expected
    assert "hidden" in nodes[scene.root]["classes"]  # tier 1's root: its holder and value are not tier 2's
    assert "frozen" in nodes[scene.frozen_piece]["classes"]
    assert "holder not visible" in nodes[scene.root]["text"]
    assert "focus" in nodes[scene.tier2_piece]["classes"]
    assert_edges_follow_parents(page)
    shot(page, screenshots / "supplier.png")


def test_obligor_sees_its_obligations_and_the_maturity_calendar(
    scene: Scene, page: Any, screenshots: Path
) -> None:
    sign_in(page, scene.server, scene.parties["core"].api_key)
    assert {"panel-obligations", "panel-calendar", "panel-lineage"} <= visible_panels(page)
    assert "panel-exposures" not in visible_panels(page)
    panel_settled(page, "panel-obligations")
    text = page.inner_text("#panel-obligations")
    assert "CN¥1,000,000.00" in text and f"#{scene.root}" in text
    if panel_settled(page, "panel-calendar") == "ready":
        assert "1,000,000.00" in page.inner_text("#panel-calendar")
    page.wait_for_selector(".lineage-svg")
    assert len(lineage_nodes(page)) == 5
    shot(page, screenshots / "obligor.png")


def test_bank_sees_its_financing_book_and_the_financed_piece(
    scene: Scene, page: Any, screenshots: Path
) -> None:
    sign_in(page, scene.server, scene.parties["bank"].api_key)
    assert "panel-book" in visible_panels(page)
    assert "panel-supervision" not in visible_panels(page)
    panel_settled(page, "panel-holdings")
    assert table_token_ids(page, "panel-holdings") == {scene.financed_piece}
    if panel_settled(page, "panel-book") == "ready":
        book = page.inner_text("#panel-book")
        assert "50,000.00" in book and f"#{scene.financed_piece}" in book
        assert "financed" in page.inner_text("#panel-holdings")
    page.wait_for_selector(f".lineage-svg .node.focus[data-token-id='{scene.financed_piece}']")
    assert {n["id"] for n in lineage_nodes(page)} == {scene.root, scene.tier2_piece, scene.financed_piece}
    assert_edges_follow_parents(page)
    shot(page, screenshots / "bank.png")


def test_regulator_sees_exposures_and_the_marked_lineage_picture(
    scene: Scene, page: Any, screenshots: Path
) -> None:
    sign_in(page, scene.server, scene.parties["regulator"].api_key)
    overseer = {"panel-exposures", "panel-supervision", "panel-obligations", "panel-lineage"}
    assert overseer <= visible_panels(page)
    assert "panel-book" not in visible_panels(page)
    if panel_settled(page, "panel-exposures") == "ready":
        exposures = page.inner_text("#panel-exposures")
        assert "1,000,000.00" in exposures  # the obligor's outstanding face
        assert "50,000.00" in exposures  # what the bank financed
        assert "Tier 3" in exposures
    if panel_settled(page, "panel-supervision") == "ready":
        assert table_token_ids(page, "panel-supervision") == {scene.frozen_piece}

    open_lineage(page, scene.root)
    svg = page.locator(".lineage-svg")
    assert svg.get_attribute("data-nodes") == "5" and svg.get_attribute("data-levels") == "3"
    assert page.locator(".lineage-svg g.level").count() == 3
    assert page.locator(".lineage-svg .edge").count() == 4
    assert_edges_follow_parents(page)
    nodes = {n["id"]: n for n in lineage_nodes(page)}
    depths = {n["depth"] for n in nodes.values()}
    assert depths == {0, 1, 2}
    assert [i for i, n in nodes.items() if "frozen" in n["classes"]] == [scene.frozen_piece]
    assert [i for i, n in nodes.items() if "financed" in n["classes"]] == [scene.financed_piece]
    assert "FROZEN" in nodes[scene.frozen_piece]["text"] and "FINANCED" in nodes[scene.financed_piece]["text"]
    assert "CN¥600,000.00" in nodes[scene.root]["text"]  # 1,000,000 face less 400,000 split off
    assert "CN¥50,000.00" in nodes[scene.financed_piece]["text"]
    assert not any("hidden" in n["classes"] for n in nodes.values())  # the regulator sees every holder
    legend = page.text_content(".lineage-svg .legend")
    assert legend is not None and "financed" in legend and "frozen" in legend
    summary = page.inner_text(".lineage-summary")
    assert "5 pieces over 3 tiers" in summary and "1 frozen" in summary and "1 financed" in summary

    shot(page, screenshots / "regulator.png")
    picture = shot(page, screenshots / "lineage.png", selector=".lineage-svg")
    pixels = picture.region(0, 0, picture.width, picture.height)
    drawn = sum(1 for p in pixels if p != (255, 255, 255))
    assert drawn > len(pixels) // 20, "the lineage picture is nearly blank"
    assert sum(1 for p in pixels if near(p, RED)) > 200, "no frozen (red) marking in the picture"
    assert sum(1 for p in pixels if near(p, BLUE)) > 200, "no financed (blue) marking in the picture"
    # Boxes sit on three bands from top to bottom: the frozen box is below the root's.
    root_box = page.locator(f".lineage-svg .node[data-token-id='{scene.root}']").bounding_box()
    frozen_box = page.locator(f".lineage-svg .node[data-token-id='{scene.frozen_piece}']").bounding_box()
    assert root_box is not None and frozen_box is not None and frozen_box["y"] > root_box["y"] + 150


def test_regulator_freezes_a_piece_and_the_chain_agrees(scene: Scene, page: Any, screenshots: Path) -> None:
    if not has_freeze_route(scene.server):
        pytest.skip("POST /v1/regulator/tokens/{id}/freeze is not in this API yet")
    sign_in(page, scene.server, scene.supervisor.api_key)
    open_lineage(page, scene.root)
    page.click(f".lineage-svg .nodes .node[data-token-id='{scene.open_piece}']")
    page.wait_for_selector("#token-action-button[data-action='freeze']")
    page.fill("#token-action-reason", "7")
    page.click("#token-action-button")
    assert last_action(page, "panel-lineage") == f"freeze:{scene.open_piece}"
    page.wait_for_selector(f".lineage-svg .node.frozen[data-token-id='{scene.open_piece}']")
    assert scene.server.ctx.client.is_frozen(scene.open_piece)
    assert "frozen" in page.inner_text("#panel-supervision .outcome")
    page.wait_for_selector("#token-action-button[data-action='unfreeze']")  # still on the same piece
    if page.get_attribute("#panel-supervision", "data-status") == "ready":
        assert scene.open_piece in table_token_ids(page, "panel-supervision")
    shot(page, screenshots / "freeze.png")

    page.fill("#freeze-token", str(scene.open_piece))
    page.fill("#freeze-reason", "8")
    page.click("#freeze-form button[value=unfreeze]")
    assert last_action(page, "panel-supervision") == f"unfreeze:{scene.open_piece}"
    page.wait_for_selector(f".lineage-svg .node[data-token-id='{scene.open_piece}']:not(.frozen)")
    assert not scene.server.ctx.client.is_frozen(scene.open_piece)


def test_a_refused_freeze_shows_the_problem_detail(scene: Scene, page: Any, screenshots: Path) -> None:
    """A refused freeze is shown as a sentence with the problem+json's detail and status beneath: the
    self-custody regulator's page prepares the freeze of a piece that does not exist, and the API
    refuses before anything is signed."""
    missing = scene.open_piece + 10_000
    sign_in(page, scene.server, scene.parties["regulator"].api_key)
    page.fill("#freeze-token", str(missing))
    page.fill("#freeze-reason", "9")
    page.click("#freeze-form button[value=freeze]")
    assert last_action(page, "panel-supervision").startswith(f"refused:{missing}")
    problem = page.inner_text("#panel-supervision .problem")
    status = re.search(r"HTTP (\d{3})", problem)
    assert status is not None and int(status.group(1)) == 404, problem
    assert f"token {missing} not found" in problem
    assert page.query_selector("#panel-supervision .sign-box") is None  # nothing to sign
    assert not scene.server.ctx.client.is_frozen(scene.open_piece)
    shot(page, screenshots / "refused.png", selector="#panel-supervision")
