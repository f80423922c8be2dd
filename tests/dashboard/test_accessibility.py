"""Accessibility of each role's main page, checked by axe-core (node_modules/axe-core, a dev
dependency) in Chromium at a laptop's and a phone's size: no "serious" or "critical" violation on
the supplier's, core enterprise's, bank's, regulator's and operator's pages once their panels have
loaded. The page's CSP forbids injected scripts, so these tabs run in a context that bypasses it
(`bypass_csp=True`); the page itself is served as always. Each page is also kept as a screenshot
(build/screenshots/a11y-*.png) and its key elements are checked to be there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import OPERATOR_KEY
from tests.dashboard.fixtures import PROJECT_ROOT, Scene
from tests.dashboard.test_dashboard import shot, sign_in

pytestmark = pytest.mark.chain

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"laptop": (1280, 800), "phone": (390, 844)}
BLOCKING = ("serious", "critical")

# role → (the key's party in the scene, or None for the operator; elements its main page must show)
ROLES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "supplier": ("tier2", ("#panel-holdings", "#panel-pay", "#panel-incoming", "#panel-offers")),
    "core": ("core", ("#panel-proposals", "#panel-repay", "#panel-obligations")),
    "bank": ("bank", ("#panel-market", "#panel-book", "#panel-limits", "#panel-holdings")),
    "regulator": ("supervisor", ("#panel-exposures", "#panel-supervision", "#freeze-form", "#panel-lineage")),
    "operator": (None, ("#panel-onboard", "#onboard-form", "#keys-form", "#panel-obligations")),
}

RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}"""


@pytest.fixture
def csp_free_context(browser_context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run npm ci (axe-core is a dev dependency)")
    width, height = VIEWPORTS[request.param]
    context = browser_context.browser.new_context(
        bypass_csp=True, viewport={"width": width, "height": height}, device_scale_factor=1
    )
    try:
        yield context
    finally:
        context.close()


def settle(page: Any) -> None:
    """Every visible panel has loaded (or said why not)."""
    for panel in page.eval_on_selector_all(".panel:not([hidden])", "els => els.map(e => e.id)"):
        page.wait_for_selector(f"#{panel}:not([data-status='loading'])", timeout=30_000)
    page.wait_for_selector("#live-status[data-live='live']", timeout=30_000)


@pytest.mark.parametrize("csp_free_context", list(VIEWPORTS), indirect=True)
def test_each_roles_main_page_has_no_serious_accessibility_violation(
    scene: Scene, csp_free_context: Any, screenshots: Path, request: pytest.FixtureRequest
) -> None:
    size = request.node.callspec.params["csp_free_context"]
    found: dict[str, list[dict[str, Any]]] = {}
    for role, (party, elements) in ROLES.items():
        tab = csp_free_context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        tab.set_default_timeout(20_000)
        try:
            key = (
                OPERATOR_KEY
                if party is None
                else (scene.supervisor.api_key if party == "supervisor" else scene.parties[party].api_key)
            )
            sign_in(tab, scene.server, key)
            settle(tab)
            shown = tab.eval_on_selector_all(".panel:not([hidden])", "els => els.map(e => e.id)")
            for selector in (*elements, "main#main", "header.topbar", "#lang-switch", "#sign-out"):
                assert tab.locator(selector).first.is_visible(), (
                    f"{role} ({size}): {selector} is not shown: {shown}"
                )
            shot(tab, screenshots / f"a11y-{role}-{size}.png")
            tab.add_script_tag(path=str(AXE))
            violations = tab.evaluate(RUN_AXE)
            found[role] = [v for v in violations if v["impact"] in BLOCKING]
            assert not errors, f"JavaScript errors on the {role} page: {errors}"
        finally:
            tab.close()
    blocking = {role: v for role, v in found.items() if v}
    assert blocking == {}, f"serious or critical accessibility violations at {size}: {blocking}"
