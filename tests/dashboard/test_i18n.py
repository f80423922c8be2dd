"""The dashboard in Chinese and English: the message catalogues are complete and the page has no text
of its own; a browser that prefers Chinese gets zh-CN (money in ¥, dates in Chinese) and the header's
switch turns it to English and remembers it; parties appear by their legal names from the directory;
a contract's refusal is a sentence in the chosen language; the page fits a 1280 by 800 laptop and a
390-wide phone."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from ledger.regulatory.uscc import ALPHABET, check_character
from tests.api.support import Party
from tests.dashboard.fixtures import LiveServer, Scene
from tests.dashboard.test_dashboard import has_freeze_route, last_action, lineage_nodes, open_lineage, sign_in

DASHBOARD = Path(__file__).resolve().parents[2] / "api" / "dashboard"
CATALOGUES = DASHBOARD / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
LEGAL_NAME = "苏州精工零部件有限公司"

# Literals of the page's scripts that look like words but are not shown to anyone: HTTP headers,
# storage keys, DOM event and element names, locale tags.
NOT_SHOWN = {"Asia/Shanghai", "Accept", "Authorization", "Bearer", "Content-Type", "GET", "POST", "Enter"}


def catalogue(locale: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CATALOGUES / f"{locale}.json").read_text(encoding="utf-8"))
    return loaded


def messages(locale: str) -> dict[str, str]:
    return {k: v for k, v in catalogue(locale).items() if not k.startswith("_")}


# ------------------------------------------------------------------------------------ static checks


def test_the_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, zh = messages("en"), messages("zh-CN")
    assert set(en) - set(zh) == set(), "keys in en.json missing from zh-CN.json"
    assert set(zh) - set(en) == set(), "keys in zh-CN.json missing from en.json"
    for key in en:
        assert isinstance(en[key], str) and en[key].strip(), f"en {key} is empty"
        assert isinstance(zh[key], str) and zh[key].strip(), f"zh-CN {key} is empty"
        assert set(PLACEHOLDER.findall(en[key])) == set(PLACEHOLDER.findall(zh[key])), key
    untranslated = [k for k in en if en[k] == zh[k] and not k.startswith(("lang.name.", "problem.status"))]
    assert untranslated == [], f"zh-CN repeats the English of {untranslated}"
    assert all(
        CJK.search(zh[k]) for k in zh if k.startswith(("error.", "problem.")) and k != "problem.status"
    )
    glossary = catalogue("zh-CN")["_glossary"]
    for term in ("应收账款电子凭证 / 凭证", "拆分", "转让", "融资", "兑付", "到期日", "持有人", "层级"):
        assert term in glossary.values(), term


def test_every_contract_error_the_ledger_names_has_a_sentence() -> None:
    """Each refusal `ledger.errors` decodes by name has its own sentence in both languages."""
    source = (Path(__file__).resolve().parents[2] / "ledger" / "errors.py").read_text(encoding="utf-8")
    names = set(re.findall(r'error_name = "([A-Za-z]+)"', source))
    assert len(names) > 40
    en, zh = messages("en"), messages("zh-CN")
    missing = sorted(n for n in names if f"error.{n}" not in en or f"error.{n}" not in zh)
    assert missing == [], f"contract errors without a sentence: {missing}"
    for slug in ("unauthorized", "forbidden", "not-found", "self-custody", "validation-error"):
        assert f"problem.{slug}" in en and f"problem.{slug}" in zh


class _Texts(HTMLParser):
    """Text nodes of the page that are not inside an element with `data-i18n`."""

    VOID: ClassVar[frozenset[str]] = frozenset({"meta", "link", "input", "br", "img"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.loose: list[str] = []
        self.keys: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attr, value in named.items():
            if attr.startswith("data-i18n") and value:
                self.keys.append(value)
        if tag not in self.VOID:
            self.stack.append("data-i18n" in named or tag in ("script", "style", "title"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(self.stack[-1:]):
            self.loose.append(data.strip())


def string_literals(source: str) -> list[str]:
    """Double-quoted strings and the text parts of template literals of a script (comments dropped, and
    the messages of errors thrown for programmers: the page shows those beneath a sentence of its own)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"(?m)^\s*//.*$|(?<=[;,{}()\s])//[^\n\"`]*$", "", source)
    source = re.sub(r"throw new \w*Error\((`(?:[^`\\]|\\.)*`|\"(?:[^\"\\\n]|\\.)*\")", "throw (", source)
    found: list[str] = []
    for template in re.findall(r"`((?:[^`\\]|\\.)*)`", source):
        found.extend(re.split(r"\$\{[^}]*\}", template))
    source = re.sub(r"`(?:[^`\\]|\\.)*`", "``", source)
    found.extend(re.findall(r'"((?:[^"\\\n]|\\.)*)"', source))
    return found


def looks_shown(literal: str) -> bool:
    """Prose: a capitalised word, two words with a space, or a sentence's punctuation."""
    text = literal.strip()
    if not re.search(r"[A-Za-z]{2}", text) or text in NOT_SHOWN:
        return False
    selector = re.fullmatch(r"[#.]?[a-z0-9_\-\[\]=':. >*()\"]+", text)
    if selector and (re.search(r"[#.\[\-_=]", text) or len(text.split()) < 3):  # selectors, classes, ids
        return False
    return bool(re.search(r"\b[A-Z][a-z]{2,}|[a-z]{2,} [a-z]{2,} [a-z]{2,}|[a-z][.!?:] [A-Za-z]", text))


def test_the_page_and_its_scripts_show_no_text_of_their_own() -> None:
    en = messages("en")
    parser = _Texts()
    parser.feed((DASHBOARD / "index.html").read_text(encoding="utf-8"))
    assert set(parser.loose) <= {"Tierchain", "◆"}, (
        f"text in index.html outside the catalogues: {parser.loose}"
    )
    missing = [k for k in parser.keys if k not in en]
    assert missing == [], f"index.html names keys the catalogues lack: {missing}"

    used: set[str] = set()
    for script in sorted(DASHBOARD.glob("*.js")):
        source = script.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\("([\w.\-]+)"', source))
        literals = string_literals(source)
        prose = [lit for lit in literals if looks_shown(lit)]
        assert prose == [], f"{script.name} has text of its own (put it in the catalogues): {prose}"
        assert not [lit for lit in literals if CJK.search(lit)], f"{script.name} has Chinese text of its own"
    assert sorted(used - set(en)) == [], "scripts use keys the catalogues lack"


# ------------------------------------------------------------------------------------ in the browser


def test_the_catalogues_are_served_with_the_page(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        for locale in ("en", "zh-CN"):
            answer = http.get(f"/dashboard/i18n/{locale}.json")
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.json() == catalogue(locale)
        for missing in ("/dashboard/i18n/fr.json", "/dashboard/i18n/..%2Fapp.js", "/dashboard/i18n/en.js"):
            assert http.get(missing).status_code == 404, missing
        for name in ("i18n.js", "names.js", "problems.js"):
            script = http.get(f"/dashboard/{name}")
            assert script.status_code == 200 and "https://" not in script.text


@pytest.fixture
def zh_page(browser_context: Any) -> Iterator[Any]:
    """A tab whose browser prefers Chinese: navigator.languages = ["zh-CN", "zh"], Intl in zh-CN."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(20_000)
    cdp = browser_context.new_cdp_session(tab)
    agent = tab.evaluate("navigator.userAgent")
    cdp.send("Emulation.setUserAgentOverride", {"userAgent": agent, "acceptLanguage": "zh-CN,zh"})
    cdp.send("Emulation.setLocaleOverride", {"locale": "zh-CN"})
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def switch_language(page: Any, locale: str) -> None:
    page.select_option("#lang-switch", locale)
    page.wait_for_selector(f"html[lang='{locale}']")
    page.wait_for_selector("body[data-state='ready']")


def test_a_browser_preferring_chinese_gets_zh_cn_and_the_switch_changes_and_keeps_english(
    scene: Scene, zh_page: Any, screenshots: Path
) -> None:
    page = zh_page
    page.goto(f"{scene.url}/")
    page.wait_for_selector("body[data-state='signed-out']")
    assert page.evaluate("navigator.languages[0]") == "zh-CN"
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("#sign-in h1") == "登录"
    assert page.inner_text("label[for='api-key']") == "API 密钥"

    sign_in(page, scene.server, scene.parties["tier2"].api_key)
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("#h-holdings") == "持有的凭证"
    page.wait_for_selector("#panel-holdings[data-status='ready']")
    holdings = page.inner_text("#panel-holdings")
    assert "¥150,000.00" in holdings and "CN¥" not in holdings and "CNY" not in holdings
    assert "到期日" in holdings and "年" in holdings  # a Chinese date: 2026年12月1日
    assert page.inner_text("#panel-obligations .pill.state") == "待兑付"
    page.wait_for_selector(".lineage-svg")
    assert page.text_content(".lineage-svg .level-label >> nth=0") == "第 1 级"
    assert "凭证" in page.inner_text(".lineage-summary")
    page.screenshot(path=str(screenshots / "supplier-zh-CN.png"), full_page=True)

    switch_language(page, "en")
    page.wait_for_selector("#panel-holdings[data-status='ready']")
    assert page.inner_text("#h-holdings") == "Holdings"
    assert "CN¥150,000.00" in page.inner_text("#panel-holdings")
    assert page.inner_text("#sign-out") == "Sign out"
    assert page.text_content(".lineage-svg .level-label >> nth=0") == "Tier 1"
    assert page.evaluate("localStorage.getItem('tierchain.locale')") == "en"
    page.reload()  # the browser still prefers Chinese; the choice wins
    page.wait_for_selector("body[data-state='ready']")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#h-holdings") == "Holdings"

    switch_language(page, "zh-CN")
    assert page.inner_text("#h-holdings") == "持有的凭证"
    assert page.evaluate("localStorage.getItem('tierchain.locale')") == "zh-CN"


def test_money_and_dates_follow_the_language(scene: Scene, page: Any) -> None:
    page.goto(f"{scene.url}/")
    page.wait_for_selector("body[data-state='signed-out']")
    got = page.evaluate(
        """async () => {
            const i = await import('./i18n.js');
            const out = {};
            for (const locale of ['zh-CN', 'en']) {
                i.setLocale(locale);
                out[locale] = [i.money(100000000, 'CNY'), i.money('123456789012345678901', 'CNY'),
                               i.money(5, 'USD'), i.money(-1050), i.money(null, 'CNY'),
                               i.dateOf(1767196800), i.percentFromBps(450), i.dayOf('2026-03-01')];
            }
            return out;
        }"""
    )
    assert got["zh-CN"][:5] == ["¥1,000,000.00", "¥1,234,567,890,123,456,789.01", "US$0.05", "-10.50", "—"]
    assert got["en"][:5] == ["CN¥1,000,000.00", "CN¥1,234,567,890,123,456,789.01", "$0.05", "-10.50", "—"]
    # 2025-12-31 16:00 UTC is already 1 January in Shanghai.
    assert got["zh-CN"][5] == "2026年1月1日" and got["zh-CN"][6] == "4.50%"
    assert got["zh-CN"][7] == "2026年3月1日" and got["en"][7] == "Mar 1, 2026"


def test_refusals_map_to_sentences_with_a_generic_fallback_that_keeps_the_detail(
    live_server: LiveServer, page: Any
) -> None:
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("body[data-state='signed-out']")
    got = page.evaluate(
        """async () => {
            const { Problem } = await import('./api.js');
            const { describeProblem } = await import('./problems.js');
            const i = await import('./i18n.js');
            const base = 'https://tierchain.dev/problems/';
            const cases = [
                new Problem(409, {type: base + 'token-frozen', detail: 'token 3 is frozen',
                                  contract_error: {name: 'TokenFrozen', args: {}}}),
                new Problem(422, {type: base + 'not-multiple-of-min-unit', detail: 'pieces.0.value: 7',
                                  contract_error: {name: 'NotMultipleOfMinUnit', args: {}}}),
                new Problem(422, {type: base + 'brand-new-error', detail: 'what the API said',
                                  contract_error: {name: 'BrandNewError', args: {}}}),
                new Problem(418, {type: base + 'teapot', title: 'Teapot', detail: 'short and stout'}),
                new Problem(403, {type: base + 'forbidden', detail: 'only a REGULATOR'}),
            ];
            const out = {};
            for (const locale of ['zh-CN', 'en']) {
                i.setLocale(locale);
                out[locale] = cases.map((c) => describeProblem(c)).map((d) => [d.sentence, d.detail, d.code]);
            }
            return out;
        }"""
    )
    for locale in ("zh-CN", "en"):
        m = messages(locale)
        frozen, unit, unknown, teapot, forbidden = got[locale]
        assert frozen == [m["error.TokenFrozen"], "token 3 is frozen", "TokenFrozen"]
        assert unit == [m["error.NotMultipleOfMinUnit"], "pieces.0.value: 7", "NotMultipleOfMinUnit"]
        assert unknown == [m["problem.contractGeneric"], "what the API said", "BrandNewError"]
        assert teapot == [m["problem.generic"], "short and stout", "teapot"]
        assert forbidden == [m["problem.forbidden"], "only a REGULATOR", "forbidden"]


def valid_uscc(seed: int) -> str:
    digits = f"{time.time_ns() + seed:017d}"[-9:]
    body = "91320500" + "".join(ALPHABET[int(d) + 10] for d in digits)
    return body + check_character(body)


def named_supplier(scene: Scene, api: Any, operator_headers: dict[str, str]) -> Party:
    """A supplier onboarded under a real USCC whose legal name the operator then records, holding a
    piece split off tier 3's open piece."""
    code = valid_uscc(7)
    body = {"legal_id": code, "roles": ["SUPPLIER"], "custody": "custodial"}
    answer = api.post("/v1/participants", json=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    party = Party(
        name="named",
        address=created["participant"]["address"],
        api_key=created["api_key"],
        key_id=created["key_id"],
        signer=None,
    )
    profile = {"legal_name": LEGAL_NAME, "uscc": code}
    put = api.put(f"/v1/participants/{party.address}/profile", json=profile, headers=operator_headers)
    assert put.status_code == 200, put.text
    tier3 = scene.parties["tier3"]
    split = api.post(
        f"/v1/tokens/{scene.open_piece}/split",
        json={"pieces": [{"to": party.address, "value": 50_000_00}]},
        headers=tier3.headers,
    )
    assert split.status_code == 200, split.text
    scene.server.ctx.sync()
    return party


def test_parties_are_shown_by_legal_name_with_the_address_on_hover(
    scene: Scene, page: Any, api: Any, operator_headers: dict[str, str], screenshots: Path
) -> None:
    named = named_supplier(scene, api, operator_headers)
    sign_in(page, scene.server, scene.parties["regulator"].api_key)
    open_lineage(page, scene.root)
    holders = page.eval_on_selector_all(
        ".lineage-svg .node-holder", "els => els.map(e => [e.dataset.address, e.textContent])"
    )
    by_address = {address.lower(): text for address, text in holders if address}
    assert by_address[named.address.lower()] == LEGAL_NAME
    # No name on file (tier 2 was onboarded without one): a short address, never the empty name.
    tier2 = scene.parties["tier2"].address.lower()
    assert by_address[tier2] == f"{tier2[:6]}…{tier2[-4:]}"
    node = [n for n in lineage_nodes(page) if LEGAL_NAME in n["text"]]
    assert len(node) == 1 and named.address.lower() in node[0]["text"].lower()  # the title has the address

    # In a table: the name (or short address) with the address on hover and a copy button.
    obligor = page.locator("#panel-obligations .party-name").first
    assert (obligor.get_attribute("title") or "").lower() == scene.parties["core"].address.lower()
    page.locator("#panel-obligations .party .copy").first.click()
    page.wait_for_selector("#panel-obligations .party .copy[data-copied]")
    shot_path = screenshots / "names.png"
    page.screenshot(path=str(shot_path), full_page=True)

    # The participant itself reads its own entry: its name heads the page.
    page.click("#sign-out")
    sign_in(page, scene.server, named.api_key)
    assert page.inner_text("#who-address") == LEGAL_NAME
    assert page.get_attribute("#who-address", "title") == named.address


def test_a_contract_refusal_is_a_sentence_in_the_chosen_language(scene: Scene, zh_page: Any) -> None:
    if not has_freeze_route(scene.server):
        pytest.skip("POST /v1/regulator/tokens/{id}/freeze is not in this API yet")
    page = zh_page
    sign_in(page, scene.server, scene.supervisor.api_key)
    page.fill("#freeze-token", str(scene.frozen_piece))  # frozen already: the contract refuses
    page.fill("#freeze-reason", "5")
    page.click("#freeze-form button[value=freeze]")
    assert last_action(page, "panel-supervision").startswith(f"refused:{scene.frozen_piece}")
    box = "#panel-supervision .problem"
    assert page.get_attribute(box, "data-code") == "TokenFrozen"
    assert page.inner_text(f"{box} .sentence") == messages("zh-CN")["error.TokenFrozen"]
    assert "TokenFrozen" in page.inner_text(f"{box} .facts")  # the API's own words stay, beneath

    switch_language(page, "en")
    assert page.inner_text(f"{box} .sentence") == messages("en")["error.TokenFrozen"]

    # An API problem that is not a contract's: its own sentence, the detail beneath.
    page.fill("#freeze-token", "999999")
    page.click("#freeze-form button[value=unfreeze]")
    assert last_action(page, "panel-supervision").startswith("refused:999999")
    sentence = page.inner_text(f"{box} .sentence")
    assert sentence in {messages("en")["error.NonexistentToken"], messages("en")["problem.not-found"]}


# WCAG 2 contrast of every visible text of the page (HTML, not the SVG picture) against the first
# opaque background behind it: 4.5:1, or 3:1 for large text.
LOW_CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *:not(svg):not(svg *)')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const what = `${el.tagName}.${el.className} ${ratio.toFixed(2)}`;
    if (ratio < (large ? 3 : 4.5)) bad.push(`${what}: ${el.textContent.trim().slice(0, 30)}`);
  }
  return bad;
}"""

# Words a Chinese page may still show: the product's name, language names, HTTP and API paths.
LATIN_ALLOWED = {"Tierchain", "English", "HTTP", "API", "GET", "v1", "tc"}


def test_the_chinese_page_shows_no_english_and_fits_a_phone_and_a_laptop(
    scene: Scene, zh_page: Any, screenshots: Path
) -> None:
    page = zh_page
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, scene.server, scene.parties["regulator"].api_key)
    for panel in ("panel-obligations", "panel-exposures", "panel-supervision", "panel-calendar"):
        page.wait_for_selector(f"#{panel}[data-status]:not([data-status='loading'])")
    page.wait_for_selector(".lineage-svg")
    text = page.evaluate("document.body.innerText + ' ' + document.querySelector('.lineage-svg').textContent")
    text = re.sub(r"0x[0-9a-fA-F]+…?[0-9a-fA-F]*|/v1/[\w/{}*\-]+", " ", text)
    latin = {w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in LATIN_ALLOWED}
    assert latin == set(), f"English left on the zh-CN page: {sorted(latin)}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate(LOW_CONTRAST) == []

    # Every control has a name; tab order reaches the language switch and the forms in page order.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')]
            .filter(e => e.offsetParent !== null)
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.textContent.trim())
            .map(e => e.id || e.outerHTML.slice(0, 60))"""
    )
    assert unnamed == []
    page.reload()
    page.wait_for_selector("body[data-state='ready']")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways at 390"
    widths = page.eval_on_selector_all(
        ".panel:not([hidden])", "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= 390
    page.screenshot(path=str(screenshots / "regulator-zh-CN-390.png"), full_page=True)
