// The dashboard page: sign in with an API key (kept in sessionStorage), then the panels of the
// caller's roles, each filled from /v1. A panel whose endpoint this server lacks says so and the
// rest of the page carries on. Everything shown is set through textContent, never parsed as HTML,
// and every text comes from the message catalogues (i18n.js): switching language redraws the page.

import { Api, Problem } from "./api.js";
import { count, dateOf, dayOf, has, loadCatalogues, locale, money, percentFromBps, roleWord, setLocale, stateWord, t, translatePage } from "./i18n.js";
import { renderLineage } from "./lineage.js";
import { knowNames, learnNames, nameOf, partyNode, partyText, resetNames, short } from "./names.js";
import { describeProblem } from "./problems.js";
import { parseMajor as parseAmount, toBigInt } from "./money.js";
import { PAGE_PANELS, installPages, loadPages } from "./pages.js";
import { followEvents, liveIndicator, panelsFor } from "./live.js";
import { signOperations } from "./wallet.js";

const KEY = "tierchain.apiKey";
const EVERYTHING = new Set(["REGULATOR", "OPERATOR"]);
const MONEY_KEYS = new Set([
  "value", "face", "paid", "outstanding", "overdue", "defaulted", "held_value", "financed_value",
  "price_paid", "price", "discount", "current_value", "amount", "supply", "by_obligor", "exposure",
  "recourse_open",
]);

const $ = (selector, root = document) => root.querySelector(selector);
const state = { api: null, me: null, roles: new Set(), financed: new Set(), currency: new Map(), roleOf: new Map(), lineageOf: null, documentsOf: new Map() };

// ------------------------------------------------------------------------------------ DOM helpers

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A party as text (the lineage picture): its legal name, else a short address. */
function holderLabel(address) {
  return partyText(address);
}

/** A state as a translated word in a coloured pill (the colour by the state itself). */
function statePill(value) {
  const known = typeof value === "string" && /^[a-z_]+$/.test(value) ? value : "unknown";
  return h("span", { class: `pill state state-${known}`, "data-state": value ?? "" }, stateWord(value));
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Every address in an answer (values and keys, nested), for the directory lookups of a page. */
function addressesIn(value, out = []) {
  if (typeof value === "string" && ADDRESS.test(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) addressesIn(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (ADDRESS.test(k)) out.push(k);
      addressesIn(v, out);
    }
  }
  return out;
}

/** Learn the names of the parties in `rows` before drawing them. */
function namesFor(rows) {
  return learnNames(state.api, addressesIn(rows));
}

function showProblem(box, error) {
  if (!box) return;
  box.lastError = error || null;
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const { sentence, detail, status, code } = describeProblem(error);
  const parts = [h("strong", { class: "sentence" }, sentence)];
  const facts = [];
  if (status) facts.push(t("problem.status", { status }));
  if (code) facts.push(code);
  const field = error instanceof Problem && error.body ? error.body.field : null;
  if (field) facts.push(t("problem.field", { field }));
  if (detail) parts.push(h("span", { class: "detail", lang: "en" }, detail));
  if (facts.length) parts.push(h("div", { class: "mono facts" }, facts.join(" · ")));
  box.dataset.code = code || "";
  box.replaceChildren(...parts);
  box.hidden = false;
}

/**
 * A table. columns: {key, title, money, currency(row), render(row), class}. Money columns are
 * formatted from integer minor units; the rest shown as text.
 */
function table(columns, rows, { rowClass } = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.money ? "money" : "", scope: "col" }, c.title)));
  const body = rows.map((row) =>
    h(
      "tr",
      { class: rowClass ? rowClass(row) : "" },
      columns.map((c) => {
        if (c.render) return h("td", { class: c.class || "" }, c.render(row));
        const value = row[c.key];
        if (c.money) return h("td", { class: "money" }, money(value, c.currency ? c.currency(row) : undefined));
        return h("td", { class: c.class || "" }, value === null || value === undefined ? "—" : String(value));
      }),
    ),
  );
  return h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
}

/** A column title for a field of an answer: the catalogue's word for it, else the field's name. */
function humanize(key) {
  return has(`field.${key}`) ? t(`field.${key}`) : key.replace(/_/g, " ");
}

/** A table for rows of a shape this page does not know in advance (future endpoints). */
function autoTable(rows) {
  if (!rows.length) return h("div", { class: "empty" }, t("empty.nothing"));
  const keys = Object.keys(rows[0]);
  const columns = keys.map((key) => ({
    key,
    title: humanize(key),
    money: MONEY_KEYS.has(key) && typeof rows[0][key] !== "object",
    render:
      rows[0][key] !== null && typeof rows[0][key] === "object"
        ? (row) => describe(key, row[key])
        : /address|obligor|bank|owner|holder/.test(key) && typeof rows[0][key] === "string"
          ? (row) => partyNode(row[key])
          : key.endsWith("bps")
            ? (row) => percentFromBps(row[key])
            : undefined,
  }));
  return table(columns, rows);
}

function describe(key, value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map(String).join(", ");
  return Object.entries(value)
    .map(([k, v]) => `${k.startsWith("0x") ? partyText(k) : k}: ${MONEY_KEYS.has(key) && typeof v !== "object" ? money(v) : String(v)}`)
    .join("; ");
}

// ------------------------------------------------------------------------------------ panels

/** Run a panel's loader; 404/405/501 → "not available", 403 → "not available to your role". */
async function fill(panelId, path, load) {
  const panel = document.getElementById(panelId);
  const body = $(".body", panel);
  body.replaceChildren(h("div", { class: "empty" }, t("status.loading")));
  panel.dataset.status = "loading";
  try {
    await load(body);
    panel.dataset.status = "ready";
  } catch (error) {
    if (error instanceof Problem && error.unavailable) {
      body.replaceChildren(h("div", { class: "unavailable" }, t("status.unavailable", { path: `GET /v1${path}`, status: error.status })));
      panel.dataset.status = "unavailable";
    } else if (error instanceof Problem && error.status === 403) {
      body.replaceChildren(h("div", { class: "unavailable" }, t("status.forbidden", { detail: error.body.detail || error.message })));
      panel.dataset.status = "forbidden";
    } else {
      body.replaceChildren();
      const box = h("div", { class: "problem", role: "alert" });
      body.append(box);
      showProblem(box, error);
      panel.dataset.status = "error";
    }
  }
}

function openLineage(tokenId) {
  state.selected = undefined;
  return showLineage(tokenId);
}

function lineageButton(tokenId) {
  return h("button", { class: "small secondary", type: "button", "data-lineage": tokenId, onclick: () => openLineage(tokenId), "aria-label": t("action.lineageOf", { id: tokenId }) }, t("action.lineage"));
}

function tokenStatus(token) {
  const pills = [];
  if (token.frozen) pills.push(h("span", { class: "pill frozen" }, t("mark.frozen")));
  if (state.financed.has(Number(token.token_id))) pills.push(h("span", { class: "pill financed" }, t("mark.financed")));
  if (token.burned) pills.push(h("span", { class: "pill" }, t("mark.redeemed")));
  return pills.length ? pills : "—";
}

async function loadHoldings(body) {
  const rows = await state.api.list("/tokens");
  state.holdings = rows;
  await namesFor(rows.map((r) => r.obligor));
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("holdings.empty")));
    return;
  }
  const cur = (r) => r.currency_code;
  body.replaceChildren(
    table(
      [
        { title: t("col.token"), render: (r) => `#${r.token.token_id}`, class: "token-id" },
        { title: t("col.obligation"), render: (r) => String(r.token.slot) },
        { title: t("col.value"), money: true, render: (r) => money(r.token.value, cur(r)), class: "money" },
        { title: t("col.obligor"), render: (r) => partyNode(r.obligor) },
        { title: t("col.maturity"), render: (r) => dateOf(r.maturity) },
        { title: t("col.tier"), render: (r) => String(r.token.depth + 1) },
        { title: t("col.state"), render: (r) => statePill(r.state) },
        { title: t("col.marks"), render: (r) => tokenStatus(r.token) },
        { title: t("col.actions"), render: (r) => lineageButton(r.token.token_id) },
      ],
      rows,
      { rowClass: (r) => (r.token.frozen ? "is-frozen" : "") },
    ),
  );
  for (const row of rows) if (row.currency_code) state.currency.set(Number(row.token.slot), row.currency_code);
}

async function loadObligations(body) {
  const rows = await state.api.list("/obligations");
  state.obligations = rows;
  await namesFor(rows.map((o) => o.obligor));
  for (const o of rows) if (o.currency_code) state.currency.set(Number(o.slot), o.currency_code);
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("obligations.empty")));
    return;
  }
  const cur = (o) => o.currency_code;
  body.replaceChildren(
    table(
      [
        { title: t("col.obligation"), key: "slot" },
        { title: t("col.obligor"), render: (o) => partyNode(o.obligor) },
        { title: t("col.face"), key: "face", money: true, currency: cur },
        { title: t("col.paid"), key: "paid", money: true, currency: cur },
        { title: t("col.maturity"), render: (o) => dateOf(o.maturity) },
        { title: t("col.state"), render: (o) => statePill(o.state) },
        { title: t("col.root"), render: (o) => `#${o.root_token_id}` },
        { title: t("col.actions"), render: (o) => lineageButton(o.root_token_id) },
      ],
      rows,
    ),
  );
}

async function loadBook(body) {
  const rows = await state.api.list("/financing/book");
  await namesFor(rows);
  for (const entry of rows) {
    if (entry.financed_token_id !== null && entry.financed_token_id !== undefined && entry.status !== "cancelled") {
      state.financed.add(Number(entry.financed_token_id));
    }
  }
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("book.empty")));
    return;
  }
  if (!("offer_id" in rows[0])) {
    body.replaceChildren(autoTable(rows));
    return;
  }
  const cur = (e) => (e.slot !== null && e.slot !== undefined ? state.currency.get(Number(e.slot)) : undefined) || e.currency_code;
  body.replaceChildren(
    table(
      [
        { title: t("col.offer"), key: "offer_id" },
        { title: t("col.status"), render: (e) => statePill(e.status) },
        { title: t("col.token"), render: (e) => `#${e.financed_token_id ?? e.token_id}` },
        { title: t("col.value"), key: "value", money: true, currency: cur },
        { title: t("col.price"), key: "price", money: true, currency: cur },
        { title: t("col.discount"), key: "discount", money: true, currency: cur },
        { title: t("col.rate"), render: (e) => percentFromBps(e.rate_bps) },
        { title: t("col.days"), key: "days" },
        { title: t("col.maturity"), render: (e) => dateOf(e.maturity) },
        { title: t("col.holder"), render: (e) => partyNode(e.holder) },
      ],
      rows,
    ),
  );
}

async function loadCalendar(body) {
  const rows = await state.api.list("/repayment/calendar");
  await namesFor(rows);
  if (!Array.isArray(rows)) {
    body.replaceChildren(h("div", { class: "empty" }, t("status.unexpected")));
    return;
  }
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("calendar.empty")));
    return;
  }
  if (!("slot" in rows[0])) {
    body.replaceChildren(autoTable(rows));
    return;
  }
  const cur = (e) => e.currency_code || state.currency.get(Number(e.slot));
  body.replaceChildren(
    table(
      [
        { title: t("col.due"), render: (e) => (e.maturity_date ? dayOf(e.maturity_date) : dateOf(e.maturity)) },
        { title: t("col.obligation"), key: "slot" },
        { title: t("col.obligor"), render: (e) => partyNode(e.obligor) },
        { title: t("col.face"), key: "face", money: true, currency: cur },
        { title: t("col.paid"), key: "paid", money: true, currency: cur },
        { title: t("col.outstanding"), key: "outstanding", money: true, currency: cur },
        { title: t("col.state"), render: (e) => statePill(e.state) },
      ],
      rows,
    ),
  );
}

const EXPOSURES = [
  ["exposures.byObligor", "/regulator/exposures/obligors"],
  ["exposures.byBank", "/regulator/exposures/banks"],
  ["exposures.byTier", "/regulator/exposures/tiers"],
];

/** Three views of exposure; each section stands alone, and the panel fails only if all do. */
async function loadExposures(body) {
  const answers = await Promise.allSettled(EXPOSURES.map(([, path]) => state.api.get(path)));
  if (answers.every((a) => a.status === "rejected")) throw answers[0].reason;
  await namesFor(answers.filter((a) => a.status === "fulfilled").map((a) => a.value));
  const sections = [];
  answers.forEach((answer, i) => {
    const [title, path] = EXPOSURES[i];
    sections.push(h("h3", {}, t(title)));
    if (answer.status === "rejected") {
      const error = answer.reason;
      const why = error instanceof Problem ? `${error.status}: ${error.body.detail || error.body.title}` : String(error);
      sections.push(h("div", { class: "unavailable" }, t("status.unavailableSection", { path: `GET /v1${path}`, why })));
      return;
    }
    const rows = Array.isArray(answer.value) ? answer.value : (answer.value && answer.value.items) || [];
    sections.push(path.endsWith("/tiers") ? tierTable(rows) : autoTable(rows));
  });
  body.replaceChildren(...sections);
}

function tierTable(rows) {
  if (!rows.length) return h("div", { class: "empty" }, t("exposures.noPieces"));
  return table(
    [
      { title: t("col.tier"), render: (row) => t("tier.n", { n: Number(row.depth) + 1 }) },
      { title: t("col.pieces"), render: (row) => count(row.tokens) },
      { title: t("col.holders"), render: (row) => count(row.holders) },
      { title: t("col.value"), key: "value", money: true },
    ],
    rows,
  );
}

async function loadFrozen(body) {
  const answer = await state.api.list("/regulator/frozen");
  const rows = (Array.isArray(answer) ? answer : []).map((r) => (r && r.token ? { ...r.token, ...r, token: undefined } : r));
  await namesFor(rows.map((r) => r.owner));
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("supervision.noneFrozen")));
    return;
  }
  body.replaceChildren(
    table(
      [
        { title: t("col.token"), render: (row) => `#${row.token_id}`, class: "token-id" },
        { title: t("col.obligation"), render: (row) => String(row.slot ?? "—") },
        { title: t("col.holder"), render: (row) => partyNode(row.owner) },
        { title: t("col.value"), money: true, key: "value", currency: (row) => state.currency.get(Number(row.slot)) },
        { title: t("col.reason"), render: (row) => String(row.reason_code ?? "—") },
        { title: t("col.actions"), render: (row) => h("button", { class: "small secondary", type: "button", onclick: () => openLineage(row.token_id), "aria-label": t("action.lineageOf", { id: row.token_id }) }, t("action.lineage")) },
      ],
      rows,
      { rowClass: () => "is-frozen" },
    ),
  );
}

// ------------------------------------------------------------------------------------ lineage

async function rolesOf(addresses) {
  if (!state.roles.has("REGULATOR") && !state.roles.has("OPERATOR")) return;
  const unknown = [...new Set(addresses.filter((a) => a && !state.roleOf.has(a.toLowerCase())))];
  await Promise.all(
    unknown.map(async (address) => {
      try {
        const participant = await state.api.get(`/participants/${address}`);
        state.roleOf.set(address.toLowerCase(), participant.roles || []);
      } catch {
        state.roleOf.set(address.toLowerCase(), []);
      }
    }),
  );
}

function walk(node, out = []) {
  out.push(node);
  for (const child of node.children || []) walk(child, out);
  return out;
}

/**
 * Pieces a bank financed: the caller's own book (a bank); for overseers, the obligation's graph
 * (`financed` per token), or, where that is not available, pieces a bank holds now.
 */
async function financedIn(slot, views) {
  const ids = new Set(state.financed);
  if (!state.roles.has("REGULATOR") && !state.roles.has("OPERATOR")) return ids;
  try {
    const graph = await state.api.get(`/regulator/obligations/${slot}/graph`);
    for (const node of graph.nodes || []) {
      if (node.kind === "token" && node.financed) ids.add(Number(String(node.id).split(":")[1]));
    }
  } catch {
    for (const v of views) {
      const roles = v.owner ? state.roleOf.get(v.owner.toLowerCase()) : null;
      if (roles && roles.includes("BANK")) ids.add(Number(v.token_id));
    }
  }
  return ids;
}

async function showLineage(tokenId) {
  const panel = $("#panel-lineage");
  const host = $(".lineage-host", panel);
  const summary = $(".lineage-summary", panel);
  const problem = $(".problem", panel);
  $("#lineage-token").value = String(tokenId);
  showProblem(problem, null);
  panel.dataset.status = "loading";
  const request = (state.lineageRequest = (state.lineageRequest || 0) + 1);
  const stale = () => request !== state.lineageRequest; // a later click won; drop this answer
  try {
    const data = await state.api.get(`/tokens/${Number(tokenId)}/lineage`);
    const views = [...(data.ancestors || []), ...walk(data.tree)];
    const slot = Number(data.token.slot);
    await Promise.all([rolesOf(views.map((v) => v.owner)), namesFor(views.map((v) => v.owner))]);
    const currency = state.currency.get(slot) || "";
    const financed = await financedIn(slot, views);
    if (stale()) return;
    state.lineageOf = Number(tokenId);
    const svg = renderLineage(host, data, {
      currency,
      focus: Number(tokenId),
      financed,
      label: holderLabel,
      onSelect: (view) => selectToken(view),
    });
    const frozen = views.filter((v) => v.frozen).length;
    const marked = views.filter((v) => financed.has(Number(v.token_id))).length;
    summary.textContent = t("lineage.summary", { token: tokenId, slot, nodes: svg.dataset.nodes, levels: svg.dataset.levels, frozen, financed: marked });
    panel.dataset.status = "ready";
    const keep = state.selected !== undefined && views.some((v) => Number(v.token_id) === state.selected);
    const wanted = keep ? state.selected : Number(tokenId);
    const selected = views.find((v) => Number(v.token_id) === wanted);
    if (selected) selectToken(selected, { quiet: true });
  } catch (error) {
    if (stale()) return;
    host.replaceChildren();
    summary.textContent = "";
    showProblem(problem, error);
    panel.dataset.status = "error";
  }
}

/** The regulator's action on the selected piece: freeze or unfreeze with a reason code. */
function selectToken(view, { quiet = false } = {}) {
  for (const node of document.querySelectorAll(".lineage-svg .node.selected")) node.classList.remove("selected");
  const node = document.querySelector(`.lineage-svg .nodes .node[data-token-id="${Number(view.token_id)}"]`);
  if (node) node.classList.add("selected");
  const box = $("#token-action");
  state.selected = Number(view.token_id);
  if (!state.roles.has("REGULATOR")) return;
  const reason = h("input", { type: "number", min: 0, max: 4294967295, step: 1, value: 1, id: "token-action-reason", "aria-label": t("supervision.reason") });
  const freeze = !view.frozen;
  const button = h(
    "button",
    { type: "button", class: freeze ? "danger" : "secondary", id: "token-action-button", "data-action": freeze ? "freeze" : "unfreeze" },
    freeze ? t("action.freeze") : t("action.unfreeze"),
  );
  button.addEventListener("click", () => setFrozen(Number(view.token_id), reason.value, freeze, $("#panel-lineage")));
  box.replaceChildren(
    h("strong", {}, t("lineage.tokenN", { id: view.token_id })),
    h("span", { class: view.frozen ? "pill frozen" : "pill" }, view.frozen ? t("mark.frozen") : t("mark.notFrozen")),
    h("label", { for: "token-action-reason" }, t("supervision.reason")),
    reason,
    button,
  );
  box.hidden = false;
  if (!quiet) box.scrollIntoView({ block: "nearest" });
}

async function setFrozen(tokenId, reasonCode, freeze, panel) {
  const problem = $(".problem", panel);
  const outcome = $("#panel-supervision .outcome");
  showProblem(problem, null);
  outcome.hidden = true;
  const action = freeze ? "freeze" : "unfreeze";
  try {
    const operation = { operation: action, token_id: Number(tokenId), reason_code: Number(reasonCode) };
    const words = () => t(freeze ? "wallet.doFreeze" : "wallet.doUnfreeze", { id: tokenId, reason: reasonCode });
    const result = selfCustody() ? await signed(panel, [operation], words) : await state.api.post(`/regulator/tokens/${Number(tokenId)}/${action}`, { reason_code: Number(reasonCode) });
    outcome.textContent = t(freeze ? "supervision.frozenDone" : "supervision.unfrozenDone", { id: tokenId, reason: reasonCode, tx: short(result && result.tx_hash) });
    outcome.hidden = false;
    document.body.dataset.lastAction = `${action}:${tokenId}`;
  } catch (error) {
    showProblem(problem, error);
    document.body.dataset.lastAction = `refused:${tokenId}`;
    return;
  }
  const refreshes = [fill("panel-supervision", "/regulator/frozen", loadFrozen)];
  if (state.lineageOf !== null) refreshes.push(showLineage(state.lineageOf));
  await Promise.all(refreshes);
}

/** ERC-7943's value freeze: `amount` (major units as typed) of a piece frozen, the rest movable; 0 lifts it. */
async function setFrozenValue(tokenId, text, panel) {
  const problem = $(".problem", panel);
  const outcome = $("#panel-supervision .outcome");
  showProblem(problem, null);
  outcome.hidden = true;
  const amount = parseAmount(text);
  if (amount === null) return localProblem(problem, t("pay.needAmount"));
  try {
    const answer = await state.api.put(`/regulator/tokens/${Number(tokenId)}/frozen-value`, { amount: Number(amount) });
    const cur = state.currency.get(Number(answer.result && answer.result.slot)) || undefined;
    outcome.textContent = t(amount === 0n ? "supervision.valueLifted" : "supervision.valueDone", { id: tokenId, amount: money(amount.toString(), cur), tx: short(answer.tx_hash) });
    outcome.hidden = false;
    document.body.dataset.lastAction = `frozen-value:${tokenId}`;
  } catch (error) {
    showProblem(problem, error);
    document.body.dataset.lastAction = `refused:${tokenId}`;
    return;
  }
  const refreshes = [fill("panel-supervision", "/regulator/frozen", loadFrozen)];
  if (state.lineageOf !== null) refreshes.push(showLineage(state.lineageOf));
  await Promise.all(refreshes);
}

// ------------------------------------------------------------------------------------ paying and selling

/** "1,234.5" (the currency's major units, as typed) → minor units as a BigInt, or null when not an amount. */
/** The active holders one may pay, by legal name; their names join the page's cache. */
async function loadDirectory() {
  if (state.directory) return state.directory;
  try {
    state.directory = await state.api.get("/participants/directory");
  } catch {
    state.directory = [];
  }
  knowNames(state.directory);
  return state.directory;
}

function directoryOption(entry) {
  const label = entry.legal_name || short(entry.address);
  return h("option", { value: entry.address, title: entry.address }, label);
}

/** The caller's live pieces that can move: not frozen, not redeemed, with value. */
function payablePieces() {
  return (state.holdings || []).filter((r) => !r.token.frozen && !r.token.burned && toBigInt(r.token.value) > 0n);
}

function pieceOption(row) {
  return h("option", { value: row.token.token_id }, t("pay.pieceOption", { id: row.token.token_id, value: money(row.token.value, row.currency_code), obligor: partyText(row.obligor) }));
}

function pieceRow(tokenId) {
  return (state.holdings || []).find((r) => String(r.token.token_id) === String(tokenId)) || null;
}

function receiverRow(index) {
  const me = state.me ? state.me.address.toLowerCase() : "";
  const receivers = (state.directory || []).filter((e) => e.address.toLowerCase() !== me);
  const id = `pay-to-${index}`;
  const amountId = `pay-amount-${index}`;
  const docsId = `pay-docs-${index}`;
  const select = h("select", { id, class: "pay-to", required: true, "aria-controls": docsId }, h("option", { value: "" }, t("pay.choose")), receivers.map(directoryOption));
  const amount = h("input", { id: amountId, class: "pay-amount", inputmode: "decimal", autocomplete: "off", required: true, placeholder: "0.00" });
  const docs = h("fieldset", { id: docsId, class: "pay-docs", "data-status": "idle", hidden: true }, h("legend", {}, t("pay.docsLegend")), h("div", { class: "pay-docs-body" }));
  const row = h("div", { class: "pay-row", "data-row": index }, h("label", { for: id }, t("pay.receiver")), select, h("label", { for: amountId }, t("pay.amount")), amount);
  select.addEventListener("change", () => {
    delete row.dataset.touched; // another receiver: choose its documents afresh
    loadRowDocuments(row);
  });
  amount.addEventListener("input", () => allocateDocuments());
  if (index > 0) {
    row.append(
      h("button", { type: "button", class: "small secondary", "aria-label": t("pay.removeReceiverN", { n: index + 1 }), onclick: () => {
        row.remove();
        allocateDocuments();
      } }, t("pay.removeReceiver")),
    );
  }
  row.append(docs);
  return row;
}

// ------------------------------------------------------------------- trade documents of a payment

/** The piece chosen in the pay form (its holding row), or null. */
function payPiece() {
  return pieceRow($("#pay-piece").value);
}

/**
 * The receiver's attested documents sold to the caller that a payment may cite now
 * (GET /v1/documents?seller=…&buyer=…&citable=true), in issue-date order; cached per receiver and
 * currency until the form reloads.
 */
function citableDocuments(receiver, currency) {
  const key = `${receiver.toLowerCase()}|${currency || ""}`;
  if (!state.documentsOf.has(key)) {
    const query = new URLSearchParams({ seller: receiver, buyer: state.me.address, citable: "true" });
    if (currency) query.set("currency", currency);
    const request = state.api.list(`/documents?${query}`).then((rows) => (Array.isArray(rows) ? rows : []));
    request.catch(() => state.documentsOf.delete(key)); // asked again next time
    state.documentsOf.set(key, request);
  }
  return state.documentsOf.get(key);
}

const KIND_ORDER = { invoice: 0, purchase_order: 1, delivery_note: 2 };

function kindWord(kind) {
  return has(`docKind.${kind}`) ? t(`docKind.${kind}`) : String(kind);
}

/** A document as one line: kind, date, amount and the cover it has left. */
function documentText(doc, currency) {
  const params = { kind: kindWord(doc.kind), date: dateOf(doc.issue_date), amount: money(doc.amount, currency), remaining: money(doc.remaining, currency) };
  return t(doc.remaining === null || doc.remaining === undefined ? "pay.docLineNote" : "pay.docLine", params);
}

/** A cited document in the review: what this payment takes of its cover. */
function reviewText(doc, currency) {
  if (doc.remaining === null || doc.remaining === undefined) return documentText(doc, currency);
  const params = { kind: kindWord(doc.kind), date: dateOf(doc.issue_date), amount: money(doc.amount, currency), remaining: money(doc.remaining, currency), uses: money(doc.uses.toString(), currency) };
  return t("pay.reviewDocLine", params);
}

async function loadRowDocuments(row) {
  const box = $(".pay-docs", row);
  const body = $(".pay-docs-body", box);
  const receiver = $(".pay-to", row).value;
  const piece = payPiece();
  row.documents = null;
  if (!receiver || !state.me) {
    box.hidden = true;
    body.replaceChildren();
    box.dataset.status = "idle";
    allocateDocuments();
    return;
  }
  const currency = piece ? piece.currency_code : null;
  const ask = (row.docsRequest = (row.docsRequest || 0) + 1);
  box.hidden = false;
  box.dataset.status = "loading";
  body.replaceChildren(h("div", { class: "hint" }, t("status.loading")));
  let docs;
  try {
    docs = await citableDocuments(receiver, currency);
  } catch {
    if (ask !== row.docsRequest) return;
    body.replaceChildren(h("p", { class: "hint pay-docs-none" }, t("pay.docsUnavailable")));
    box.dataset.status = "unavailable";
    allocateDocuments();
    return;
  }
  if (ask !== row.docsRequest) return; // another receiver was chosen meanwhile
  const name = nameOf(receiver) || short(receiver);
  const usable = docs.filter((d) => d.citable !== false && d.kind in KIND_ORDER);
  const index = row.dataset.row;
  row.documents = usable;
  if (!usable.length) {
    body.replaceChildren(h("p", { class: "pay-docs-none" }, t("pay.noDocuments", { name })));
    box.dataset.status = "none";
    allocateDocuments();
    return;
  }
  const items = usable.map((doc, i) => {
    const id = `pay-doc-${index}-${i}`;
    const check = h("input", { type: "checkbox", id, class: "pay-doc", value: doc.fingerprint, "data-kind": doc.kind });
    check.addEventListener("change", () => {
      row.dataset.touched = "yes"; // the holder chose: no more choosing for them
      allocateDocuments();
    });
    return h("li", {}, check, h("label", { for: id, title: doc.fingerprint }, documentText(doc, currency)));
  });
  body.replaceChildren(
    h("ul", { class: "pay-doc-list" }, items),
    h("p", { class: "pay-cover", "aria-live": "polite" }),
  );
  box.dataset.status = "ready";
  allocateDocuments();
}

/**
 * What the checked documents of each row cover, the way the ledger takes them (invoices, and purchase
 * orders beside a delivery note, each up to the cover it has left, earlier rows first); rows the holder
 * has not touched get documents chosen for them in date order until their amount is covered.
 */
function allocateDocuments() {
  const used = new Map(); // fingerprint → cover taken by earlier rows of this payment
  const room = (doc) => {
    const left = toBigInt(doc.remaining ?? 0) - (used.get(doc.fingerprint) || 0n);
    return left > 0n ? left : 0n;
  };
  const piece = payPiece();
  const currency = piece ? piece.currency_code : undefined;
  for (const row of document.querySelectorAll("#pay-rows .pay-row")) {
    const docs = row.documents;
    row.uses = new Map(); // fingerprint → what this row's amount takes of it
    if (!docs || !docs.length) continue;
    const wanted = parseAmount($(".pay-amount", row).value) || 0n;
    const boxes = [...row.querySelectorAll(".pay-doc")];
    if (!row.dataset.touched) {
      const chosen = new Set();
      let left = wanted;
      const take = (doc) => {
        const r = room(doc);
        if (left <= 0n || r <= 0n) return;
        chosen.add(doc.fingerprint);
        left -= r < left ? r : left;
      };
      for (const doc of docs) if (doc.kind === "invoice") take(doc);
      const note = docs.find((d) => d.kind === "delivery_note");
      if (left > 0n && note) {
        const before = chosen.size;
        for (const doc of docs) if (doc.kind === "purchase_order") take(doc);
        if (chosen.size > before) chosen.add(note.fingerprint);
      }
      for (const box of boxes) box.checked = chosen.has(box.value);
    }
    const checked = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
    const delivered = docs.some((d) => d.kind === "delivery_note" && checked.has(d.fingerprint));
    let covered = 0n;
    for (const doc of docs) {
      if (!checked.has(doc.fingerprint)) continue;
      if (doc.kind !== "invoice" && !(doc.kind === "purchase_order" && delivered)) continue;
      const r = room(doc);
      const need = wanted - covered;
      const part = r < need ? r : need;
      if (part <= 0n) continue;
      covered += part;
      used.set(doc.fingerprint, (used.get(doc.fingerprint) || 0n) + part);
      row.uses.set(doc.fingerprint, part);
    }
    const line = $(".pay-cover", row);
    if (line) {
      const full = wanted > 0n && covered >= wanted;
      line.className = full ? "pay-cover" : "pay-cover short";
      line.textContent = checked.size
        ? t(full ? "pay.covered" : "pay.notCovered", { covered: money(covered.toString(), currency), amount: money(wanted.toString(), currency) })
        : t("pay.noneChosen");
    }
  }
}

/** Each receiver row's documents again (after the piece, and so perhaps the currency, changed). */
function reloadDocuments() {
  for (const row of document.querySelectorAll("#pay-rows .pay-row")) loadRowDocuments(row);
}

let payRows = 0;

async function loadPay() {
  const panel = $("#panel-pay");
  await loadDirectory();
  const pieces = payablePieces();
  const select = $("#pay-piece");
  const previous = select.value;
  select.replaceChildren(...pieces.map(pieceOption));
  if (previous && pieces.some((r) => String(r.token.token_id) === previous)) select.value = previous;
  payRows = 0;
  state.documentsOf = new Map(); // a payment may have used cover: ask again
  $("#pay-rows").replaceChildren(receiverRow(payRows++));
  $("#pay-review").hidden = true;
  $("#pay-form").hidden = !pieces.length;
  const body = $(".body", panel);
  body.hidden = Boolean(pieces.length);
  body.replaceChildren(pieces.length ? "" : h("div", { class: "empty" }, t("pay.nothing")));
}

/** What the form says, or a sentence saying what is missing. */
function readPayment() {
  const piece = pieceRow($("#pay-piece").value);
  if (!piece) return { error: t("pay.needPiece") };
  allocateDocuments(); // what each row's documents cover, as the ledger will take them
  const lines = [];
  for (const row of document.querySelectorAll("#pay-rows .pay-row")) {
    const to = $(".pay-to", row).value;
    const amount = parseAmount($(".pay-amount", row).value);
    if (!to) return { error: t("pay.needReceiver") };
    if (amount === null || amount <= 0n || amount > BigInt(Number.MAX_SAFE_INTEGER)) return { error: t("pay.needAmount") };
    const checked = new Set([...row.querySelectorAll(".pay-doc:checked")].map((b) => b.value));
    const uses = row.uses || new Map();
    const documents = (row.documents || []).filter((d) => checked.has(d.fingerprint)).map((d) => ({ ...d, uses: uses.get(d.fingerprint) || 0n }));
    lines.push({ to, value: amount, documents });
  }
  if (!lines.length) return { error: t("pay.needReceiver") };
  // One transaction: the ledger takes documents for every receiver or for none.
  const bare = lines.find((l) => !l.documents.length);
  if (bare && lines.some((l) => l.documents.length)) {
    return { error: t("pay.docsAllOrNone", { name: nameOf(bare.to) || short(bare.to) }) };
  }
  const total = lines.reduce((sum, l) => sum + l.value, 0n);
  return { piece, lines, total, remaining: toBigInt(piece.token.value) - total };
}

function localProblem(box, sentence) {
  box.lastError = null;
  box.replaceChildren(h("strong", { class: "sentence" }, sentence));
  box.hidden = false;
}

function previewPayment() {
  const panel = $("#panel-pay");
  const problem = $(".problem", panel);
  showProblem(problem, null);
  $(".outcome", panel).hidden = true;
  const payment = readPayment();
  if (payment.error) {
    localProblem(problem, payment.error);
    return;
  }
  state.payment = payment;
  const cur = payment.piece.currency_code;
  const rows = payment.lines.map((l) => ({ to: l.to, value: l.value.toString(), documents: l.documents }));
  const cited = rows.some((r) => r.documents.length);
  const review = $("#pay-review");
  $(".body-review", review).replaceChildren(
    h("p", { class: "review-piece" }, t("pay.reviewPiece", { id: payment.piece.token.token_id, value: money(payment.piece.token.value, cur) })),
    table(
      [
        { title: t("pay.receiver"), render: (r) => partyNode(r.to), class: "review-to" },
        { title: t("pay.amount"), render: (r) => money(r.value, cur), class: "money review-amount" },
        {
          title: t("pay.docsColumn"),
          class: "review-docs",
          render: (r) =>
            r.documents.length
              ? h("ul", { class: "review-doc-list" }, r.documents.map((d) => h("li", { "data-fingerprint": d.fingerprint, title: d.fingerprint }, reviewText(d, cur))))
              : t("pay.reviewNoDocs"),
        },
      ],
      rows,
    ),
    h("p", { class: "hint" }, t(cited ? "pay.howTrade" : "pay.howNoTrade")),
    h("p", { class: "review-total" }, t("pay.reviewTotal", { total: money(payment.total.toString(), cur) })),
    h("p", { class: payment.remaining < 0n ? "review-remaining over" : "review-remaining" }, t("pay.reviewRemaining", { remaining: money(payment.remaining.toString(), cur) })),
    payment.remaining < 0n ? h("p", { class: "warn" }, t("pay.overWarning")) : "",
    h("p", { class: "hint" }, t(payment.lines.length > 1 ? "pay.howBatch" : "pay.howSplit")),
  );
  $("#pay-form").hidden = true;
  review.hidden = false;
  review.focus();
}

/** Whether the caller signs its own transactions (the service holds no key for it). */
function selfCustody() {
  return Boolean(state.me && state.me.custodial === false && !state.roles.has("OPERATOR"));
}

/** A self-custody write: prepare, show, sign (wallet or pasted), submit — from inside `panel`. */
function signed(panel, operations, words) {
  const progress = $(".progress", panel);
  return signOperations({
    api: state.api,
    me: state.me,
    panel,
    operations,
    words,
    h,
    t,
    onWaiting: (waiting) => {
      if (progress) progress.textContent = t(waiting ? "wallet.waiting" : "write.progress");
    },
  });
}

/** The outcome line of a self-signed write, else the custodial route's own. */
function outcomeOf(describeResult) {
  return (result) =>
    result.self_signed ? h("div", { class: "self-signed" }, t("wallet.done", { n: result.transactions.length })) : describeResult(result);
}

/** progress → result or refusal, the same for every write of these panels. */
async function runWrite(panel, review, send, describeResult, after = null) {
  const progress = $(".progress", panel);
  const outcome = $(".outcome", panel);
  const problem = $(".problem", panel);
  for (const button of review.querySelectorAll("button")) button.disabled = true;
  progress.textContent = t("write.progress");
  progress.hidden = false;
  panel.dataset.write = "sending";
  try {
    const answer = await send();
    progress.hidden = true;
    review.hidden = true;
    outcome.replaceChildren(
      h("strong", {}, t("write.mined", { block: answer.block_number })),
      h("div", { class: "mono tx", "data-tx": answer.tx_hash }, t("write.tx", { tx: answer.tx_hash })),
      describeResult(answer.result || {}),
    );
    outcome.hidden = false;
    if (after) await after(answer); // the panels the write changed, redrawn before it reads as done
    panel.dataset.write = "done";
    outcome.focus();
    return answer;
  } catch (error) {
    progress.hidden = true;
    showProblem(problem, error);
    panel.dataset.write = "refused";
    return null;
  } finally {
    for (const button of review.querySelectorAll("button")) button.disabled = false;
  }
}

async function sendPayment() {
  const panel = $("#panel-pay");
  const payment = state.payment;
  if (!payment) return;
  const tokenId = Number(payment.piece.token.token_id);
  const body = {
    pieces: payment.lines.map((l) => {
      const piece = { to: l.to, value: Number(l.value) };
      if (l.documents.length) piece.documents = l.documents.map((d) => d.fingerprint);
      return piece;
    }),
  };
  const cur = payment.piece.currency_code;
  const operations = body.pieces.map((p) => ({ operation: "split", token_id: tokenId, ...p }));
  const words = (op) => t("wallet.doSplit", { value: money(op.value, cur), id: tokenId, to: partyText(op.to) });
  const send = selfCustody() ? () => signed(panel, operations, words) : () => state.api.post(`/tokens/${tokenId}/split`, body);
  const answer = await runWrite(panel, $("#pay-review"), send, outcomeOf((result) => {
    const ids = result.token_ids || (result.token_id !== undefined ? [result.token_id] : []);
    return h("div", { class: "new-pieces" }, t("pay.newPieces", { ids: ids.map((i) => `#${i}`).join(", ") }));
  }));
  if (!answer) {
    $("#pay-review").hidden = true;
    $("#pay-form").hidden = false;
    return;
  }
  state.payment = null;
  await fill("panel-holdings", "/tokens", loadHoldings);
  await refreshActions({ keepOutcome: true });
}

// -------------------------------------------------------------------- offers and financing requests

async function loadOffers(body) {
  await loadDirectory();
  const mine = new Map((state.holdings || []).map((r) => [String(r.token.token_id), r]));
  const offers = (await state.api.list("/financing/offers?status=open")).filter((o) => mine.has(String(o.token_id)));
  const now = Date.now() / 1000;
  const live = offers.filter((o) => Number(o.expiry) > now);
  await namesFor(live.map((o) => o.bank));
  const quotes = await Promise.all(
    live.map(async (o) => {
      const row = mine.get(String(o.token_id));
      try {
        return await state.api.get(`/financing/obligations/${row.token.slot}/quote?value=${o.value}&rate_bps=${o.rate_bps}&day_count=${o.day_count}`);
      } catch {
        return null;
      }
    }),
  );
  state.offers = live.map((o, i) => ({ ...o, quote: quotes[i], row: mine.get(String(o.token_id)) }));
  const askPiece = $("#ask-piece");
  askPiece.replaceChildren(...payablePieces().map(pieceOption));
  const banks = (state.directory || []).filter((e) => (e.roles || []).includes("BANK"));
  $("#ask-bank").replaceChildren(...banks.map(directoryOption));
  if (!state.offers.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("offers.none")));
    return;
  }
  const cur = (o) => o.row.currency_code;
  body.replaceChildren(
    table(
      [
        { title: t("offers.bank"), render: (o) => partyNode(o.bank) },
        { title: t("col.token"), render: (o) => `#${o.token_id}`, class: "token-id" },
        { title: t("col.value"), render: (o) => money(o.value, cur(o)), class: "money" },
        { title: t("offers.price"), render: (o) => (o.quote ? money(o.quote.price, cur(o)) : "—"), class: "money offer-price" },
        { title: t("offers.discount"), render: (o) => (o.quote ? money(o.quote.discount, cur(o)) : "—"), class: "money" },
        { title: t("offers.rate"), render: (o) => percentFromBps(o.rate_bps) },
        { title: t("offers.dayCount"), render: (o) => t(`dayCount.${o.day_count}`) },
        { title: t("offers.recourse"), render: (o) => t(o.recourse ? "offers.withRecourse" : "offers.withoutRecourse") },
        { title: t("offers.expiry"), render: (o) => dateOf(o.expiry) },
        { title: t("col.actions"), render: (o) => h("button", { type: "button", class: "small", "data-offer": o.offer_id, "aria-label": t("offers.acceptN", { id: o.offer_id, bank: partyText(o.bank) }), onclick: () => previewOffer(o) }, t("offers.accept")) },
      ],
      state.offers,
      { rowClass: () => "offer-row" },
    ),
  );
}

function previewOffer(offer) {
  const panel = $("#panel-offers");
  showProblem($(".problem", panel), null);
  $(".outcome", panel).hidden = true;
  state.offer = offer;
  const cur = offer.row.currency_code;
  const remaining = toBigInt(offer.row.token.value) - toBigInt(offer.value);
  const review = $("#offer-review");
  $(".body-review", review).replaceChildren(
    h("p", {}, t("offers.reviewSell", { value: money(offer.value, cur), id: offer.token_id }), " ", partyNode(offer.bank)),
    h("p", { class: "review-price" }, t("offers.reviewPrice", { price: offer.quote ? money(offer.quote.price, cur) : "—", discount: offer.quote ? money(offer.quote.discount, cur) : "—" })),
    h("p", {}, t("offers.reviewTerms", { rate: percentFromBps(offer.rate_bps), dayCount: t(`dayCount.${offer.day_count}`), recourse: t(offer.recourse ? "offers.withRecourse" : "offers.withoutRecourse") })),
    h("p", { class: "review-remaining" }, t("pay.reviewRemaining", { remaining: money(remaining.toString(), cur) })),
  );
  review.hidden = false;
  review.focus();
}

async function sendOffer() {
  const offer = state.offer;
  if (!offer) return;
  const panel = $("#panel-offers");
  const cur = offer.row.currency_code;
  const operations = [{ operation: "accept", offer_id: Number(offer.offer_id) }];
  const words = () => t("wallet.doAccept", { id: offer.offer_id, value: money(offer.value, cur), bank: partyText(offer.bank) });
  const send = selfCustody() ? () => signed(panel, operations, words) : () => state.api.post(`/financing/offers/${Number(offer.offer_id)}/accept`, {});
  const answer = await runWrite(panel, $("#offer-review"), send, outcomeOf((result) =>
    h("div", { class: "new-pieces" }, t("offers.done", { id: result.financed_token_id, price: money(result.price, cur) })),
  ));
  if (!answer) return;
  state.offer = null;
  await fill("panel-holdings", "/tokens", loadHoldings);
  await refreshActions({ keepOutcome: true });
}

async function askFinancing() {
  const panel = $("#panel-offers");
  const outcome = $(".ask-outcome", panel);
  const problem = $(".ask-problem", panel);
  showProblem(problem, null);
  outcome.hidden = true;
  const tokenId = Number($("#ask-piece").value);
  const bank = $("#ask-bank").value;
  if (!tokenId || !bank) {
    localProblem(problem, t(tokenId ? "offers.needBank" : "pay.needPiece"));
    return;
  }
  try {
    await state.api.post("/financing/requests", { token_id: tokenId, bank });
    outcome.textContent = t("offers.asked", { id: tokenId, bank: partyText(bank) });
    outcome.hidden = false;
  } catch (error) {
    showProblem(problem, error);
  }
}

// -------------------------------------------------------------------- acceptance (签收, 拒收, 撤回)

const MOVE_ACTIONS = {
  accept: { review: "incoming.reviewAccept", confirm: "incoming.confirmAccept", done: "incoming.doneAccept" },
  refuse: { review: "incoming.reviewRefuse", confirm: "incoming.confirmRefuse", done: "incoming.doneRefuse" },
  withdraw: { review: "outgoing.reviewWithdraw", confirm: "outgoing.confirmWithdraw", done: "outgoing.doneWithdraw" },
};

function moveButton(move, action, label, labelled) {
  const attrs = { type: "button", class: action === "accept" ? "small" : "small secondary", "data-move": move.token_id, "data-action": action, onclick: () => previewMove(move, action) };
  attrs["aria-label"] = t(labelled, { id: move.token_id });
  return h("button", attrs, t(label));
}

/** Payments waiting for the caller's acceptance (bill mode), and the caller's own waiting for theirs. */
async function loadIncoming(body) {
  const [incoming, outgoing] = await Promise.all([state.api.list("/tokens/incoming"), state.api.list("/tokens/outgoing")]);
  state.incoming = incoming;
  state.outgoing = outgoing;
  await namesFor([...incoming, ...outgoing]);
  const cur = (m) => m.currency_code;
  body.replaceChildren(
    incoming.length
      ? table(
          [
            { title: t("incoming.from"), render: (m) => partyNode(m.sender) },
            { title: t("col.token"), render: (m) => `#${m.token_id}`, class: "token-id" },
            { title: t("col.value"), render: (m) => money(m.value, cur(m)), class: "money" },
            { title: t("col.obligor"), render: (m) => (m.obligor ? partyNode(m.obligor) : "—") },
            { title: t("col.maturity"), render: (m) => (m.maturity ? dateOf(m.maturity) : "—") },
            { title: t("incoming.expiry"), render: (m) => dateOf(m.expiry) },
            {
              title: t("col.actions"),
              render: (m) => [moveButton(m, "accept", "incoming.accept", "incoming.acceptN"), " ", moveButton(m, "refuse", "incoming.refuse", "incoming.refuseN")],
            },
          ],
          incoming,
          { rowClass: () => "incoming-row" },
        )
      : h("div", { class: "empty" }, t("incoming.none")),
  );
  const outBody = $(".outgoing-body", body.closest(".panel"));
  outBody.replaceChildren(
    outgoing.length
      ? table(
          [
            { title: t("outgoing.to"), render: (m) => partyNode(m.receiver) },
            { title: t("col.token"), render: (m) => `#${m.token_id}`, class: "token-id" },
            { title: t("col.value"), render: (m) => money(m.value, cur(m)), class: "money" },
            { title: t("incoming.expiry"), render: (m) => dateOf(m.expiry) },
            { title: t("col.actions"), render: (m) => moveButton(m, "withdraw", "outgoing.withdraw", "outgoing.withdrawN") },
          ],
          outgoing,
          { rowClass: () => "outgoing-row" },
        )
      : h("div", { class: "empty" }, t("outgoing.none")),
  );
}

function previewMove(move, action) {
  const panel = $("#panel-incoming");
  showProblem($(".problem", panel), null);
  $(".outcome", panel).hidden = true;
  state.move = { move, action };
  const words = MOVE_ACTIONS[action];
  const review = $("#incoming-review");
  const party = action === "withdraw" ? move.receiver : move.sender;
  $(".body-review", review).replaceChildren(
    h("p", { class: "review-move" }, t(words.review, { id: move.token_id, value: money(move.value, move.currency_code) }), " ", partyNode(party)),
  );
  $("#incoming-send").textContent = t(words.confirm);
  review.hidden = false;
  review.focus();
}

async function sendMove() {
  const chosen = state.move;
  if (!chosen) return;
  const { move, action } = chosen;
  const panel = $("#panel-incoming");
  const words = MOVE_ACTIONS[action];
  const answer = await runWrite(
    panel,
    $("#incoming-review"),
    () => state.api.post(`/tokens/${Number(move.token_id)}/${action}`, {}),
    () => h("div", { class: "move-done" }, t(words.done, { id: move.token_id, value: money(move.value, move.currency_code) })),
    async () => {
      await fill("panel-holdings", "/tokens", loadHoldings);
      await fill("panel-incoming", "/tokens/incoming", loadIncoming);
      await refreshActions({ keepOutcome: true });
    },
  );
  if (answer) state.move = null;
}

// -------------------------------------------------------------------- the bank's market (融资申请)

/** The open financing requests addressed to the calling bank, each with the piece as the request shows it. */
async function loadMarket(body) {
  const open = await state.api.list("/financing/requests?status=open");
  const asked = open.filter((r) => r.holder !== (state.me && state.me.address));
  const details = await Promise.all(asked.map((r) => state.api.get(`/financing/requests/${Number(r.request_id)}`)));
  state.market = details;
  await namesFor(details.map((d) => ({ holder: d.holder, obligor: d.obligor })));
  if (!details.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("market.none")));
    return;
  }
  const cur = (d) => d.currency;
  const mine = (d) => (d.offers || []).filter((o) => o.status === "open");
  body.replaceChildren(
    table(
      [
        { title: t("market.request"), render: (d) => `#${d.request_id}` },
        { title: t("market.holder"), render: (d) => partyNode(d.holder) },
        { title: t("col.token"), render: (d) => `#${d.token_id}`, class: "token-id" },
        { title: t("market.value"), render: (d) => money(d.value, cur(d)), class: "money" },
        { title: t("col.obligor"), render: (d) => partyNode(d.obligor) },
        { title: t("col.maturity"), render: (d) => dateOf(d.maturity) },
        { title: t("col.tier"), render: (d) => String((d.lineage || []).length + 1) },
        { title: t("market.documents"), render: (d) => count((d.documents || []).length) },
        { title: t("market.deadline"), render: (d) => (d.deadline ? dateOf(d.deadline) : "—") },
        { title: t("market.myOffer"), render: (d) => (mine(d).length ? mine(d).map((o) => t("market.myOfferLine", { id: o.offer_id, rate: percentFromBps(o.rate_bps) })).join("; ") : "—") },
        { title: t("col.actions"), render: (d) => h("button", { type: "button", class: "small", "data-request": d.request_id, "aria-label": t("market.offerN", { id: d.request_id }), onclick: () => chooseRequest(d) }, t("market.offer")) },
      ],
      details,
      { rowClass: () => "market-row" },
    ),
  );
}

function chooseRequest(detail) {
  const panel = $("#panel-market");
  showProblem($(".problem", panel), null);
  $(".outcome", panel).hidden = true;
  $("#market-review").hidden = true;
  state.request = detail;
  $("#h-market-form").textContent = t("market.formTitle", { id: detail.request_id, value: money(detail.value, detail.currency) });
  const form = $("#market-form");
  form.hidden = false;
  $("#market-rate").focus();
}

/** "4.8" or "4.80" (percent a year) → 480 basis points; null when not a rate with at most two decimals. */
function parseRate(text) {
  const clean = String(text || "").trim().replace(/[%％]$/, "").trim();
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(clean)) return null;
  const [whole, fraction = ""] = clean.split(".");
  const bps = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  return bps > 0 && bps <= 65535 ? bps : null;
}

async function previewRequestOffer() {
  const panel = $("#panel-market");
  const detail = state.request;
  const problem = $(".problem", panel);
  showProblem(problem, null);
  if (!detail) return;
  const bps = parseRate($("#market-rate").value);
  if (bps === null) {
    localProblem(problem, t("market.needRate"));
    return;
  }
  const dayCount = $("#market-daycount").value;
  const recourse = $("#market-recourse").checked;
  let quote;
  try {
    quote = await state.api.get(`/financing/requests/${Number(detail.request_id)}/quote?rate_bps=${bps}&day_count=${dayCount}`);
  } catch (error) {
    showProblem(problem, error);
    return;
  }
  state.requestOffer = { detail, bps, dayCount, recourse, quote };
  const cur = detail.currency;
  $(".body-review", $("#market-review")).replaceChildren(
    h("p", { class: "review-buy" }, t("market.reviewBuy", { value: money(detail.value, cur), id: detail.token_id }), " ", partyNode(detail.holder)),
    h("p", { class: "review-price" }, t("market.reviewPrice", { price: money(quote.price, cur), discount: money(quote.discount, cur), days: quote.days_to_maturity })),
    h("p", {}, t("offers.reviewTerms", { rate: percentFromBps(bps), dayCount: t(`dayCount.${dayCount}`), recourse: t(recourse ? "offers.withRecourse" : "offers.withoutRecourse") })),
    h("p", {}, t("market.reviewExpiry", { deadline: detail.deadline ? dateOf(detail.deadline) : dateOf(detail.maturity) })),
  );
  $("#market-form").hidden = true;
  const review = $("#market-review");
  review.hidden = false;
  review.focus();
}

async function sendRequestOffer() {
  const chosen = state.requestOffer;
  if (!chosen) return;
  const panel = $("#panel-market");
  const body = { rate_bps: chosen.bps, day_count: chosen.dayCount, recourse: chosen.recourse };
  const answer = await runWrite(
    panel,
    $("#market-review"),
    () => state.api.post(`/financing/requests/${Number(chosen.detail.request_id)}/offers`, body),
    (result) => h("div", { class: "offer-made" }, t("market.done", { offer: result.offer_id, id: chosen.detail.request_id })),
    () => fill("panel-market", "/financing/requests", loadMarket),
  );
  if (!answer) {
    $("#market-review").hidden = true;
    $("#market-form").hidden = false;
    return;
  }
  state.requestOffer = null;
  state.request = null;
}

// -------------------------------------------------------------------- recourse claims (追索, 清偿)

const CLAIM_OPEN = new Set(["open", "partly_settled"]);

/** The recourse claims the caller is a party to: as the seller it settles them, as the bank it waives them. */
async function loadRecourse(body) {
  const claims = await state.api.list("/financing/recourse");
  state.claims = claims;
  await namesFor(claims.map((c) => ({ bank: c.bank, seller: c.seller })));
  if (!claims.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("recourse.none")));
    return;
  }
  const me = state.me && state.me.address;
  const cur = (c) => c.currency_code;
  const action = (c) => {
    if (!CLAIM_OPEN.has(c.state)) return "—";
    if (c.seller === me) {
      const input = h("input", { type: "text", inputmode: "decimal", class: "claim-amount", id: `claim-amount-${c.offer_id}`, "aria-label": t("recourse.amountN", { id: c.offer_id }), value: (Number(c.remaining) / 100).toFixed(2) });
      return [input, " ", h("button", { type: "button", class: "small", "data-claim": c.offer_id, "data-action": "settle", onclick: () => previewClaim(c, "settle") }, t("recourse.settle"))];
    }
    if (c.bank === me) return h("button", { type: "button", class: "small secondary", "data-claim": c.offer_id, "data-action": "waive", "aria-label": t("recourse.waiveN", { id: c.offer_id }), onclick: () => previewClaim(c, "waive") }, t("recourse.waive"));
    return "—";
  };
  body.replaceChildren(
    table(
      [
        { title: t("recourse.financing"), render: (c) => `#${c.offer_id}` },
        { title: t("offers.bank"), render: (c) => partyNode(c.bank) },
        { title: t("recourse.seller"), render: (c) => partyNode(c.seller) },
        { title: t("col.obligation"), render: (c) => String(c.slot) },
        { title: t("recourse.shortfall"), render: (c) => money(c.shortfall, cur(c)), class: "money" },
        { title: t("recourse.settled"), render: (c) => money(c.settled, cur(c)), class: "money" },
        { title: t("recourse.remaining"), render: (c) => money(c.remaining, cur(c)), class: "money claim-remaining" },
        { title: t("col.state"), render: (c) => h("span", { class: `pill state state-${c.state}`, "data-state": c.state }, t(`recourse.state.${c.state}`)) },
        { title: t("col.actions"), render: action },
      ],
      claims,
      { rowClass: () => "claim-row" },
    ),
  );
}

function previewClaim(claim, action) {
  const panel = $("#panel-recourse");
  const problem = $(".problem", panel);
  showProblem(problem, null);
  $(".outcome", panel).hidden = true;
  const cur = claim.currency_code;
  let amount = null;
  if (action === "settle") {
    amount = parseAmount($(`#claim-amount-${claim.offer_id}`).value);
    if (amount === null || amount <= 0n) {
      localProblem(problem, t("pay.needAmount"));
      return;
    }
    if (amount > toBigInt(claim.remaining)) {
      localProblem(problem, t("recourse.overRemaining", { remaining: money(claim.remaining, cur) }));
      return;
    }
  }
  state.claim = { claim, action, amount };
  const lines =
    action === "settle"
      ? [t("recourse.reviewSettle", { amount: money(amount.toString(), cur), id: claim.offer_id }), t("recourse.reviewLeft", { left: money((toBigInt(claim.remaining) - amount).toString(), cur) })]
      : [t("recourse.reviewWaive", { remaining: money(claim.remaining, cur), id: claim.offer_id })];
  $(".body-review", $("#recourse-review")).replaceChildren(
    h("p", { class: "review-claim" }, lines[0], " ", partyNode(action === "settle" ? claim.bank : claim.seller)),
    ...lines.slice(1).map((line) => h("p", {}, line)),
  );
  $("#recourse-send").textContent = t(action === "settle" ? "recourse.confirmSettle" : "recourse.confirmWaive");
  const review = $("#recourse-review");
  review.hidden = false;
  review.focus();
}

async function sendClaim() {
  const chosen = state.claim;
  if (!chosen) return;
  const { claim, action, amount } = chosen;
  const panel = $("#panel-recourse");
  const id = Number(claim.offer_id);
  const send = action === "settle" ? () => state.api.post(`/financing/recourse/${id}/settlements`, { amount: Number(amount) }) : () => state.api.post(`/financing/recourse/${id}/waive`, {});
  const answer = await runWrite(
    panel,
    $("#recourse-review"),
    send,
    () => h("div", { class: "claim-done" }, t(action === "settle" ? "recourse.doneSettle" : "recourse.doneWaive", { id: claim.offer_id })),
    () => fill("panel-recourse", "/financing/recourse", loadRecourse),
  );
  if (answer) state.claim = null;
}

// -------------------------------------------------------------------- a bank's credit limits (授信)

function limitParties() {
  const kind = $("#limits-kind").value;
  const wanted = kind === "obligor" ? "CORE_ENTERPRISE" : "SUPPLIER";
  const parties = (state.directory || []).filter((e) => (e.roles || []).includes(wanted));
  $("#limits-party").replaceChildren(...parties.map(directoryOption));
}

/** The calling bank's limits per core enterprise and per seller, what each has used and what is left. */
async function loadLimits(body) {
  await loadDirectory();
  const limits = await state.api.get("/financing/limits");
  state.limits = limits;
  await namesFor(limits.lines.map((l) => l.counterparty));
  limitParties();
  if (!limits.lines.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("limits.none")));
    return;
  }
  body.replaceChildren(
    h("p", { class: "limits-outstanding" }, t("limits.outstanding", { amount: money(limits.outstanding) })),
    table(
      [
        { title: t("limits.counterparty"), render: (l) => partyNode(l.counterparty) },
        { title: t("limits.kind"), render: (l) => t(`limits.kind.${l.kind}`) },
        { title: t("limits.limit"), render: (l) => (l.limit === null ? t("limits.unlimited") : money(l.limit)), class: "money" },
        { title: t("limits.used"), render: (l) => money(l.used), class: "money" },
        { title: t("limits.available"), render: (l) => (l.available === null ? "—" : money(l.available)), class: "money limit-available" },
        { title: t("limits.share"), render: (l) => (l.share === null || l.share === undefined ? "—" : `${(l.share * 100).toFixed(1)}%`) },
      ],
      limits.lines,
      { rowClass: () => "limit-row" },
    ),
  );
}

function previewLimit() {
  const panel = $("#panel-limits");
  const problem = $(".problem", panel);
  showProblem(problem, null);
  $(".outcome", panel).hidden = true;
  const kind = $("#limits-kind").value;
  const counterparty = $("#limits-party").value;
  const amount = parseAmount($("#limits-amount").value);
  if (!counterparty) {
    localProblem(problem, t("limits.needParty"));
    return;
  }
  if (amount === null) {
    localProblem(problem, t("pay.needAmount"));
    return;
  }
  state.limit = { kind, counterparty, amount };
  const current = (state.limits ? state.limits.lines : []).find((l) => l.counterparty === counterparty.toLowerCase() && l.kind === kind);
  $(".body-review", $("#limits-review")).replaceChildren(
    h("p", { class: "review-limit" }, t(amount === 0n ? "limits.reviewRemove" : "limits.reviewSet", { amount: money(amount.toString()), kind: t(`limits.kind.${kind}`) }), " ", partyNode(counterparty)),
    h("p", {}, t("limits.reviewUsed", { used: money(current ? current.used : 0) })),
  );
  $("#limits-form").hidden = true;
  const review = $("#limits-review");
  review.hidden = false;
  review.focus();
}

async function sendLimit() {
  const chosen = state.limit;
  if (!chosen) return;
  const panel = $("#panel-limits");
  const body = { counterparty: chosen.counterparty, kind: chosen.kind, limit: Number(chosen.amount) };
  const answer = await runWrite(
    panel,
    $("#limits-review"),
    () => state.api.put("/financing/limits", body),
    () => h("div", { class: "limit-done" }, t("limits.done")),
    () => fill("panel-limits", "/financing/limits", loadLimits),
  );
  $("#limits-form").hidden = false;
  if (answer) state.limit = null;
}

// -------------------------------------------------------------------- the operator: onboarding and API keys

function readOnboarding() {
  const roles = [...document.querySelectorAll(".onboard-role:checked")].map((box) => box.value);
  const body = { legal_id: $("#onboard-id").value.trim(), roles, custody: $("#onboard-custody").value };
  const name = $("#onboard-name").value.trim();
  if (name) body.legal_name = name;
  const size = $("#onboard-size").value;
  if (size) body.size_class = size;
  if (body.custody === "self") body.address = $("#onboard-address").value.trim();
  return body;
}

function previewOnboarding() {
  const panel = $("#panel-onboard");
  const problem = $(".problem", panel);
  showProblem(problem, null);
  $(".outcome", panel).hidden = true;
  const body = readOnboarding();
  if (!body.legal_id) return localProblem(problem, t("onboard.needId"));
  if (!body.roles.length) return localProblem(problem, t("onboard.needRole"));
  if (body.custody === "self" && !ADDRESS.test(body.address || "")) return localProblem(problem, t("onboard.needAddress"));
  state.onboarding = body;
  $(".body-review", $("#onboard-review")).replaceChildren(
    h("p", { class: "review-onboard" }, t("onboard.reviewWho", { name: body.legal_name || "—", id: body.legal_id })),
    h("p", {}, t("onboard.reviewRoles", { roles: body.roles.map(roleWord).join(t("list.separator")) })),
    h("p", {}, t("onboard.reviewSize", { size: t(`onboard.size.${body.size_class || "none"}`) })),
    h("p", {}, body.custody === "self" ? t("onboard.reviewSelf", { address: body.address }) : t("onboard.reviewCustodial")),
  );
  $("#onboard-form").hidden = true;
  const review = $("#onboard-review");
  review.hidden = false;
  review.focus();
}

async function sendOnboarding() {
  const body = state.onboarding;
  if (!body) return;
  const panel = $("#panel-onboard");
  const answer = await runWrite(
    panel,
    $("#onboard-review"),
    async () => {
      const made = await state.api.post("/participants", body);
      return { ...made.registration, result: made };
    },
    (made) =>
      h(
        "div",
        { class: "onboarded" },
        h("p", {}, t("onboard.done", { address: made.participant.address })),
        h("p", {}, t("onboard.keyOnce")),
        h("code", { class: "api-key mono", "data-address": made.participant.address }, made.api_key),
      ),
  );
  $("#onboard-form").hidden = false;
  if (!answer) return;
  state.onboarding = null;
  state.directory = null;
  $("#keys-address").value = answer.result.participant.address;
}

async function showKeys() {
  const panel = $("#panel-onboard");
  const problem = $(".keys-problem", panel);
  showProblem(problem, null);
  const address = $("#keys-address").value.trim();
  if (!ADDRESS.test(address)) return localProblem(problem, t("onboard.needAddress"));
  try {
    const keys = await state.api.get(`/participants/${address}/api-keys`);
    $(".keys-body", panel).replaceChildren(
      keys.length
        ? table(
            [
              { title: t("keys.id"), render: (k) => k.key_id, class: "mono key-id" },
              { title: t("keys.scopes"), render: (k) => k.scopes.join(", ") },
              { title: t("keys.created"), render: (k) => dateOf(Date.parse(k.created_at) / 1000) },
              { title: t("col.state"), render: (k) => (k.revoked_at ? t("keys.revoked") : t("keys.active")) },
              { title: t("col.actions"), render: (k) => (k.revoked_at ? "—" : h("button", { type: "button", class: "small danger", "data-key": k.key_id, "aria-label": t("keys.revokeN", { id: k.key_id }), onclick: () => revokeKey(address, k.key_id) }, t("keys.revoke"))) },
            ],
            keys,
            { rowClass: () => "key-row" },
          )
        : h("div", { class: "empty" }, t("keys.none")),
    );
    panel.dataset.keys = "ready";
  } catch (error) {
    showProblem(problem, error);
  }
}

async function issueKey() {
  const panel = $("#panel-onboard");
  const problem = $(".keys-problem", panel);
  const outcome = $(".keys-outcome", panel);
  showProblem(problem, null);
  outcome.hidden = true;
  const address = $("#keys-address").value.trim();
  if (!ADDRESS.test(address)) return localProblem(problem, t("onboard.needAddress"));
  try {
    const issued = await state.api.post(`/participants/${address}/api-keys`, { scopes: ["read", "write"] });
    outcome.replaceChildren(h("p", {}, t("onboard.keyOnce")), h("code", { class: "api-key mono" }, issued.api_key));
    outcome.hidden = false;
    await showKeys();
  } catch (error) {
    showProblem(problem, error);
  }
}

async function revokeKey(address, keyId) {
  const problem = $(".keys-problem", $("#panel-onboard"));
  showProblem(problem, null);
  if (!window.confirm(t("keys.confirmRevoke", { id: keyId }))) return;
  try {
    await state.api.request("DELETE", `/participants/${address}/api-keys/${encodeURIComponent(keyId)}`);
    await showKeys();
  } catch (error) {
    showProblem(problem, error);
  }
}

// -------------------------------------------------------------------- the core enterprise: confirm (确权) and repay

const DAY_SECONDS = 86400;

/** The checks a confirmation will face, from the policy that applies to the caller as obligor. */
function proposalChecks(p, policy, now) {
  const days = Math.ceil((Number(p.maturity) - now) / DAY_SECONDS);
  const checks = [];
  if (policy && days > policy.max_tenor_days) checks.push(h("span", { class: "pill frozen check-tenor" }, t("proposals.overMax", { days, max: policy.max_tenor_days })));
  else if (policy && days > policy.long_tenor_days)
    checks.push(h("span", { class: `pill ${p.tenor_justification ? "" : "frozen "}check-tenor` }, t(p.tenor_justification ? "proposals.longJustified" : "proposals.longUnjustified", { days, code: p.tenor_justification })));
  else checks.push(h("span", { class: "pill check-tenor" }, t("proposals.tenorOk", { days })));
  if (p.agreed_term_ref) checks.push(" ", h("span", { class: "pill" }, t("proposals.agreedTerm")));
  checks.push(" ", h("span", { class: "pill" }, t("proposals.documents", { n: (p.documents || []).length })));
  return checks;
}

async function loadProposals(body) {
  const me = state.me && state.me.address;
  const [all, answer] = await Promise.all([state.api.list("/obligations/proposals"), state.api.get(`/policy?obligor=${me}`)]);
  const pending = all.filter((p) => p.obligor === me && p.status === "pending");
  state.proposals = pending;
  const policy = answer.obligor_overrides ? answer.obligor_overrides.policy : answer.policy;
  const now = Date.now() / 1000;
  await namesFor(pending.map((p) => p.supplier));
  if (!pending.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("proposals.none")));
    return;
  }
  body.replaceChildren(
    table(
      [
        { title: t("proposals.id"), render: (p) => `#${p.proposal_id}` },
        { title: t("proposals.supplier"), render: (p) => partyNode(p.supplier) },
        { title: t("col.face"), render: (p) => money(p.face, p.currency), class: "money" },
        { title: t("col.maturity"), render: (p) => dateOf(p.maturity) },
        { title: t("proposals.checks"), render: (p) => proposalChecks(p, policy, now) },
        {
          title: t("col.actions"),
          render: (p) => [
            h("button", { type: "button", class: "small", "data-proposal": p.proposal_id, "data-action": "confirm", "aria-label": t("proposals.confirmN", { id: p.proposal_id }), onclick: () => previewProposal(p, "confirm") }, t("proposals.confirm")),
            " ",
            h("button", { type: "button", class: "small secondary", "data-proposal": p.proposal_id, "data-action": "reject", "aria-label": t("proposals.rejectN", { id: p.proposal_id }), onclick: () => previewProposal(p, "reject") }, t("proposals.reject")),
          ],
        },
      ],
      pending,
      { rowClass: () => "proposal-row" },
    ),
  );
}

function previewProposal(proposal, action) {
  const panel = $("#panel-proposals");
  showProblem($(".problem", panel), null);
  $(".outcome", panel).hidden = true;
  state.proposal = { proposal, action };
  const values = { id: proposal.proposal_id, face: money(proposal.face, proposal.currency), maturity: dateOf(proposal.maturity) };
  $(".body-review", $("#proposal-review")).replaceChildren(
    h("p", { class: "review-proposal" }, t(action === "confirm" ? "proposals.reviewConfirm" : "proposals.reviewReject", values), " ", partyNode(proposal.supplier)),
  );
  $(".reject-reason", panel).hidden = action !== "reject";
  $("#proposal-send").textContent = t(action === "confirm" ? "proposals.confirm" : "proposals.reject");
  const review = $("#proposal-review");
  review.hidden = false;
  review.focus();
}

async function sendProposal() {
  const chosen = state.proposal;
  if (!chosen) return;
  const { proposal, action } = chosen;
  const panel = $("#panel-proposals");
  const id = Number(proposal.proposal_id);
  const send = action === "confirm" ? () => state.api.post(`/obligations/proposals/${id}/confirm`, {}) : () => state.api.post(`/obligations/proposals/${id}/reject`, { reason_code: Number($("#proposal-reason").value) });
  const answer = await runWrite(
    panel,
    $("#proposal-review"),
    send,
    (result) => h("div", { class: "proposal-done" }, action === "confirm" ? t("proposals.doneConfirm", { slot: result.slot, token: result.token_id }) : t("proposals.doneReject", { id })),
    async () => {
      await fill("panel-proposals", "/obligations/proposals", loadProposals);
      await fill("panel-obligations", "/obligations", loadObligations);
      await fill("panel-repay", "/obligations", loadRepay);
    },
  );
  if (answer) state.proposal = null;
}

/** What the caller owes: each obligation with what is paid, what is due, and a field to pay (part of) it. */
async function loadRepay(body) {
  const me = state.me && state.me.address;
  const owed = (state.obligations || (await state.api.list("/obligations"))).filter((o) => o.obligor === me && ["outstanding", "overdue", "defaulted"].includes(o.state));
  if (!owed.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("repay.none")));
    return;
  }
  const due = (o) => (toBigInt(o.face) - toBigInt(o.paid)).toString();
  body.replaceChildren(
    table(
      [
        { title: t("col.obligation"), render: (o) => String(o.slot) },
        { title: t("col.face"), render: (o) => money(o.face, o.currency_code), class: "money" },
        { title: t("col.paid"), render: (o) => money(o.paid, o.currency_code), class: "money" },
        { title: t("repay.due"), render: (o) => money(due(o), o.currency_code), class: "money repay-due" },
        { title: t("col.maturity"), render: (o) => dateOf(o.maturity) },
        { title: t("col.state"), render: (o) => statePill(o.state) },
        {
          title: t("col.actions"),
          render: (o) => [
            h("input", { type: "text", inputmode: "decimal", class: "repay-amount", id: `repay-amount-${o.slot}`, "aria-label": t("repay.amountN", { slot: o.slot }), value: (Number(due(o)) / 100).toFixed(2) }),
            " ",
            h("button", { type: "button", class: "small", "data-slot": o.slot, onclick: () => previewRepay(o) }, t("repay.pay")),
          ],
        },
      ],
      owed,
      { rowClass: () => "repay-row" },
    ),
  );
}

function previewRepay(obligation) {
  const panel = $("#panel-repay");
  const problem = $(".problem", panel);
  showProblem(problem, null);
  $(".outcome", panel).hidden = true;
  const amount = parseAmount($(`#repay-amount-${obligation.slot}`).value);
  if (amount === null || amount <= 0n) return localProblem(problem, t("pay.needAmount"));
  const due = toBigInt(obligation.face) - toBigInt(obligation.paid);
  if (amount > due) return localProblem(problem, t("repay.overDue", { due: money(due.toString(), obligation.currency_code) }));
  state.repay = { obligation, amount };
  const cur = obligation.currency_code;
  $(".body-review", $("#repay-review")).replaceChildren(
    h("p", { class: "review-repay" }, t("repay.review", { amount: money(amount.toString(), cur), slot: obligation.slot })),
    h("p", {}, t("repay.reviewLeft", { left: money((due - amount).toString(), cur) })),
  );
  const review = $("#repay-review");
  review.hidden = false;
  review.focus();
}

async function sendRepay() {
  const chosen = state.repay;
  if (!chosen) return;
  const panel = $("#panel-repay");
  const body = { slot: Number(chosen.obligation.slot), amount: Number(chosen.amount) };
  const answer = await runWrite(
    panel,
    $("#repay-review"),
    () => state.api.post("/repayment/deposits", body),
    () => h("div", { class: "repay-done" }, t("repay.done", { slot: chosen.obligation.slot })),
    async () => {
      await fill("panel-obligations", "/obligations", loadObligations);
      await fill("panel-repay", "/obligations", loadRepay);
    },
  );
  if (answer) state.repay = null;
}

/** Redraw the pay and offers panels from the holdings just loaded. */
async function refreshActions({ keepOutcome = false, live = false, only = null } = {}) {
  const shown = (id) => !document.getElementById(id).hidden && (only === null || only.includes(id));
  if (!keepOutcome) {
    for (const id of ["panel-pay", "panel-offers", "panel-incoming", "panel-market", "panel-recourse", "panel-limits", "panel-onboard", "panel-proposals", "panel-repay", ...PAGE_PANELS]) {
      const panel = document.getElementById(id);
      for (const part of panel.querySelectorAll(".outcome, .progress, .review")) part.hidden = true;
    }
  }
  const work = [];
  for (const id of ["panel-pay", "panel-offers"]) if (!live) delete document.getElementById(id).dataset.touched;
  if (shown("panel-pay")) work.push(loadPay());
  if (shown("panel-offers")) work.push(fill("panel-offers", "/financing/offers", loadOffers));
  await Promise.all(work);
}

/** A review's "Back": hide the review, show its form again (when it has one) and put the focus back where
 *  the clerk was (the first match of `focus`). */
function wireBack(name, focus, form = null) {
  $(`#${name}-back`).addEventListener("click", () => {
    $(`#${name}-review`).hidden = true;
    if (form) $(form).hidden = false;
    const target = $(focus);
    if (target) target.focus();
  });
}

function wireActions() {
  $("#pay-add").addEventListener("click", () => {
    const row = receiverRow(payRows++);
    $("#pay-rows").append(row);
    $(".pay-to", row).focus();
  });
  $("#pay-piece").addEventListener("change", () => reloadDocuments());
  $("#pay-form").addEventListener("submit", (event) => {
    event.preventDefault();
    previewPayment();
  });
  $("#pay-send").addEventListener("click", () => sendPayment());
  wireBack("pay", "#pay-piece", "#pay-form");
  $("#offer-send").addEventListener("click", () => sendOffer());
  wireBack("offer", "#panel-offers button[data-offer]");
  $("#incoming-send").addEventListener("click", () => sendMove());
  $("#recourse-send").addEventListener("click", () => sendClaim());
  $("#limits-kind").addEventListener("change", () => limitParties());
  $("#proposal-send").addEventListener("click", () => sendProposal());
  wireBack("proposal", "#panel-proposals button[data-proposal]");
  $("#repay-send").addEventListener("click", () => sendRepay());
  wireBack("repay", "#panel-repay .repay-amount");
  $("#onboard-custody").addEventListener("change", () => {
    $("#onboard-address").disabled = $("#onboard-custody").value !== "self";
  });
  $("#onboard-form").addEventListener("submit", (event) => {
    event.preventDefault();
    previewOnboarding();
  });
  $("#onboard-send").addEventListener("click", () => sendOnboarding());
  wireBack("onboard", "#onboard-id", "#onboard-form");
  $("#keys-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showKeys();
  });
  $("#keys-issue").addEventListener("click", () => issueKey());
  $("#limits-form").addEventListener("submit", (event) => {
    event.preventDefault();
    previewLimit();
  });
  $("#limits-send").addEventListener("click", () => sendLimit());
  wireBack("limits", "#limits-party", "#limits-form");
  wireBack("recourse", "#panel-recourse button[data-claim]");
  $("#market-form").addEventListener("submit", (event) => {
    event.preventDefault();
    previewRequestOffer();
  });
  $("#market-send").addEventListener("click", () => sendRequestOffer());
  wireBack("market", "#market-rate", "#market-form");
  wireBack("incoming", "#panel-incoming button[data-move]");
  $("#ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    askFinancing();
  });
  watchTouched(["panel-pay", "panel-offers"]);
  installPages({ state, h, table, fill, runWrite, showProblem, localProblem, statePill, namesFor, openLineage, wireBack, loadDirectory, refreshHoldings: () => fill("panel-holdings", "/tokens", loadHoldings) });
}

// ------------------------------------------------------------------------------------ live updates

const LOADERS = {
  "panel-holdings": ["/tokens", loadHoldings],
  "panel-incoming": ["/tokens/incoming", loadIncoming],
  "panel-obligations": ["/obligations", loadObligations],
  "panel-book": ["/financing/book", loadBook],
  "panel-market": ["/financing/requests", loadMarket],
  "panel-recourse": ["/financing/recourse", loadRecourse],
  "panel-limits": ["/financing/limits", loadLimits],
  "panel-proposals": ["/obligations/proposals", loadProposals],
  "panel-calendar": ["/repayment/calendar", loadCalendar],
  "panel-repay": ["/obligations", loadRepay],
  "panel-exposures": ["/regulator/exposures/*", loadExposures],
  "panel-supervision": ["/regulator/frozen", loadFrozen],
};

/** A panel the clerk is working in (a review or signature open, a write going, focus inside, or a form
 * filled in since it was drawn) is left alone. */
function busy(panel) {
  return Boolean(
    panel.dataset.write === "sending" ||
      panel.dataset.touched === "1" ||
      panel.querySelector(".review:not([hidden]), .sign-box") ||
      panel.contains(document.activeElement),
  );
}

/** Remember that the clerk changed something in a panel's form, so a live redraw does not wipe it; a
 * redraw of the panel by the page itself (after a write, on sign-in) starts it clean again. */
function watchTouched(ids) {
  for (const id of ids) {
    const panel = document.getElementById(id);
    const mark = () => {
      panel.dataset.touched = "1";
    };
    panel.addEventListener("input", mark);
    panel.addEventListener("change", mark);
  }
}

/** Redraw what a batch of ledger events concerns, without a reload. */
async function liveRefresh(events, tries = 0) {
  if (!state.api) return;
  if (document.body.dataset.state !== "ready") {
    if (tries < 20) setTimeout(() => liveRefresh(events, tries + 1), 500); // after the page's own load
    return;
  }
  const wanted = panelsFor(events);
  const shown = (id) => {
    const panel = document.getElementById(id);
    return panel && !panel.hidden && !busy(panel);
  };
  const work = [];
  for (const [id, [path, loader]] of Object.entries(LOADERS)) if (wanted.has(id) && shown(id)) work.push(fill(id, path, loader));
  await Promise.all(work);
  if (wanted.has("lineage") && state.lineageOf !== null && shown("panel-lineage")) await showLineage(state.lineageOf);
  const actions = ["panel-pay", "panel-offers"].filter((id) => shown(id));
  if (actions.length && (wanted.has("panel-holdings") || wanted.has("panel-offers"))) await refreshActions({ keepOutcome: true, live: true, only: actions });
  document.body.dataset.liveEvents = String(Number(document.body.dataset.liveEvents || 0) + events.length);
}

function startLive(key) {
  stopLive();
  const indicator = liveIndicator(t);
  state.live = followEvents({ key, onEvents: (events) => liveRefresh(events), onState: (s) => indicator.show(s) });
}

function stopLive() {
  if (state.live) state.live.stop();
  state.live = null;
  if (document.getElementById("live-status")) liveIndicator(t).show("off");
}

// ------------------------------------------------------------------------------------ session

function visibleFor(element) {
  const wanted = (element.dataset.roles || "").split(/\s+/).filter(Boolean);
  return wanted.some((role) => state.roles.has(role));
}

function signedOut(problem) {
  stopLive();
  state.api = null;
  state.me = null;
  state.roles = new Set();
  state.financed = new Set();
  state.roleOf = new Map();
  state.lineageOf = null;
  state.selected = undefined;
  state.directory = null;
  state.holdings = null;
  state.documentsOf = new Map();
  resetNames();
  $("#dashboard").hidden = true;
  for (const panel of document.querySelectorAll(".panel")) {
    panel.hidden = true;
    for (const part of panel.querySelectorAll(".body, .lineage-host, .lineage-summary")) part.replaceChildren();
  }
  $("#token-action").hidden = true;
  $("#who").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  $("#api-key").value = "";
  showProblem($("#sign-in-problem"), problem || null);
  document.body.dataset.state = "signed-out";
}

async function signIn(key) {
  const api = new Api(key);
  let me;
  try {
    me = await api.get("/participants/me");
  } catch (error) {
    sessionStorage.removeItem(KEY);
    signedOut(error);
    return;
  }
  sessionStorage.setItem(KEY, key);
  state.api = api;
  state.me = me;
  state.roles = new Set(me.roles || []);
  $("#sign-in").hidden = true;
  showProblem($("#sign-in-problem"), null);
  resetNames(me.address, [...state.roles].some((r) => EVERYTHING.has(r)));
  await learnNames(api, [me.address]);
  drawWho();
  $("#who").hidden = false;
  $("#sign-out").hidden = false;
  $("#dashboard").hidden = false;
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = !visibleFor(panel);
  document.body.dataset.state = "loading";
  startLive(key);
  await load();
  document.body.dataset.state = "ready";
}

/** The header's "who": the caller's name (or short address, the address on hover) and roles. */
function drawWho() {
  const me = state.me;
  if (!me) return;
  const who = [
    h("span", { class: "party-name", title: me.address, id: "who-address", "data-address": me.address }, nameOf(me.address) || short(me.address)),
    ...[...state.roles].map((role) => h("span", { class: "role" }, roleWord(role))),
  ];
  if (me.status && me.status !== "active") who.push(h("span", { class: "pill frozen" }, stateWord(me.status)));
  $("#who").replaceChildren(...who);
}

/** After a language switch: the static texts, the header, open problems and every panel again. */
async function redraw() {
  translatePage();
  $("#lang-switch").value = locale();
  for (const box of document.querySelectorAll(".problem")) if (box.lastError) showProblem(box, box.lastError);
  if (!state.api) return;
  drawWho();
  const selected = state.selected;
  const lineage = state.lineageOf;
  const action = $("#token-action");
  action.hidden = true;
  document.body.dataset.state = "loading";
  await load({ lineage });
  state.selected = selected;
  document.body.dataset.state = "ready";
}

async function load({ lineage = null } = {}) {
  const shown = (id) => !document.getElementById(id).hidden;
  if (shown("panel-pay") || shown("panel-offers")) await loadDirectory(); // names before the first tables
  const first = [];
  if (shown("panel-obligations")) first.push(fill("panel-obligations", "/obligations", loadObligations));
  if (shown("panel-holdings")) first.push(fill("panel-holdings", "/tokens", loadHoldings));
  if (shown("panel-incoming")) first.push(fill("panel-incoming", "/tokens/incoming", loadIncoming));
  if (shown("panel-book")) first.push(fill("panel-book", "/financing/book", loadBook));
  if (shown("panel-market")) first.push(fill("panel-market", "/financing/requests", loadMarket));
  if (shown("panel-recourse")) first.push(fill("panel-recourse", "/financing/recourse", loadRecourse));
  if (shown("panel-limits")) first.push(fill("panel-limits", "/financing/limits", loadLimits));
  if (shown("panel-proposals")) first.push(fill("panel-proposals", "/obligations/proposals", loadProposals));
  await Promise.all(first);
  const rest = [];
  if (shown("panel-calendar")) rest.push(fill("panel-calendar", "/repayment/calendar", loadCalendar));
  if (shown("panel-repay")) rest.push(fill("panel-repay", "/obligations", loadRepay));
  if (shown("panel-exposures")) rest.push(fill("panel-exposures", "/regulator/exposures/*", loadExposures));
  if (shown("panel-supervision")) rest.push(fill("panel-supervision", "/regulator/frozen", loadFrozen));
  const start = lineage ?? pickLineageToken();
  if (start !== null) rest.push(showLineage(start));
  rest.push(loadPages(shown));
  await Promise.all(rest);
  // Holdings were drawn before the book said which pieces are financed; redraw their marks.
  if (state.financed.size && shown("panel-holdings")) await fill("panel-holdings", "/tokens", loadHoldings);
  await refreshActions();
}

function pickLineageToken() {
  const overseer = [...state.roles].some((r) => EVERYTHING.has(r) || r === "CORE_ENTERPRISE");
  if (overseer && state.obligations && state.obligations.length) return Number(state.obligations[0].root_token_id);
  if (state.holdings && state.holdings.length) return Number(state.holdings[0].token.token_id);
  if (state.obligations && state.obligations.length) return Number(state.obligations[0].root_token_id);
  return null;
}

async function start() {
  try {
    await loadCatalogues();
  } catch (error) {
    document.body.dataset.state = "broken";
    document.body.textContent = String(error.message || error); // no catalogue: nothing else to say it in
    return;
  }
  translatePage();
  const switcher = $("#lang-switch");
  switcher.value = locale();
  switcher.addEventListener("change", () => {
    if (setLocale(switcher.value)) redraw();
  });
  $("#sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    if (key) signIn(key).then(() => state.api && $("#main").focus()); // keyboard users land on the panels
  });
  $("#sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    signedOut();
    $("#api-key").focus();
  });
  wireActions();
  $("#lineage-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("#lineage-token").value;
    if (id) {
      state.selected = undefined;
      showLineage(Number(id));
    }
  });
  $("#freeze-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const freeze = (event.submitter && event.submitter.value) !== "unfreeze";
    setFrozen(Number($("#freeze-token").value), $("#freeze-reason").value, freeze, $("#panel-supervision"));
  });
  $("#value-freeze-form").addEventListener("submit", (event) => {
    event.preventDefault();
    setFrozenValue($("#value-freeze-token").value, $("#value-freeze-amount").value, $("#panel-supervision"));
  });
  const saved = sessionStorage.getItem(KEY);
  if (saved) signIn(saved);
  else signedOut();
}

start();
