// The regulator's desk beside exposures and freezes: search (GET /v1/regulator/search) by participant
// (address or legal name), obligation, piece, document or transaction, each hit named and linked to
// its lineage picture; lost-key recoveries (GET /v1/regulator/recoveries); the periodic report
// (数据报送, GET /v1/regulator/reports/periodic) for a chosen period as a table and as CSV; and the
// audit export (GET /v1/regulator/audit.csv) of the same period.

import { download } from "./download.js";
import { count, dateOf, money, roleWord, stateWord, t } from "./i18n.js";
import { nameOf, partyNode, short } from "./names.js";

export const PANELS = ["panel-search", "panel-recoveries", "panel-reports"];
const QUERY = /^(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{64}|[0-9]{1,18})$/;
const FLOWS = ["issued", "transferred", "financed", "repaid", "overdue", "defaulted"];
let kit = null;

const $ = (selector, root = document) => root.querySelector(selector);

function lineageLink(tokenId) {
  return kit.h(
    "button",
    { type: "button", class: "small secondary", "data-lineage": tokenId, "aria-label": t("action.lineageOf", { id: tokenId }), onclick: () => kit.openLineage(Number(tokenId)) },
    t("action.lineage"),
  );
}

/** The obligation's root piece, for its lineage: from the obligations the page holds, else asked. */
async function rootOf(slot) {
  const known = (kit.state.obligations || []).find((o) => Number(o.slot) === Number(slot));
  if (known) return known.root_token_id;
  try {
    return (await kit.state.api.get(`/obligations/${Number(slot)}`)).root_token_id;
  } catch {
    return null;
  }
}

/** What the clerk typed, as the API's query: an address, id or hash as is, else a legal name. */
async function resolve(text) {
  const clean = text.trim();
  if (QUERY.test(clean)) return clean;
  if (!clean) return null;
  const directory = await kit.loadDirectory();
  const wanted = clean.toLowerCase();
  const hit = directory.find((e) => e.legal_name && e.legal_name.toLowerCase().includes(wanted));
  return hit ? hit.address : null;
}

function section(title, rows, columns) {
  const { h, table } = kit;
  if (!rows.length) return [];
  return [h("h3", {}, t(title, { n: count(rows.length) })), table(columns, rows)];
}

async function search() {
  const panel = $("#panel-search");
  const problem = $(".problem", panel);
  const body = $(".body", panel);
  kit.showProblem(problem, null);
  const { h } = kit;
  const term = await resolve($("#search-q").value);
  if (term === null) {
    body.replaceChildren();
    return kit.localProblem(problem, t("search.badQuery"));
  }
  panel.dataset.status = "loading";
  try {
    const found = await kit.state.api.get(`/regulator/search?q=${encodeURIComponent(term)}`);
    await kit.namesFor(found);
    const slots = new Set([...found.obligations.map((o) => o.slot), ...found.documents.map((d) => d.used_by_slot).filter(Boolean)]);
    const roots = new Map(await Promise.all([...slots].map(async (slot) => [slot, await rootOf(slot)])));
    const parts = [
      ...section("search.participants", found.participants, [
        { title: t("search.party"), render: (p) => partyNode(p.address) },
        { title: t("search.roles"), render: (p) => p.roles.map(roleWord).join(" · ") || "—" },
        { title: t("col.status"), render: (p) => kit.statePill(p.status) },
      ]),
      ...section("search.obligations", found.obligations, [
        { title: t("col.obligation"), render: (o) => String(o.slot) },
        { title: t("col.obligor"), render: (o) => partyNode(o.obligor) },
        { title: t("col.face"), render: (o) => money(o.face, o.currency_code), class: "money" },
        { title: t("col.outstanding"), render: (o) => money(o.outstanding, o.currency_code), class: "money" },
        { title: t("col.maturity"), render: (o) => dateOf(o.maturity) },
        { title: t("col.state"), render: (o) => kit.statePill(o.state) },
        { title: t("col.actions"), render: (o) => (roots.get(o.slot) ? lineageLink(roots.get(o.slot)) : "—") },
      ]),
      ...section("search.tokens", found.tokens, [
        { title: t("col.token"), render: (p) => `#${p.token_id}`, class: "token-id" },
        { title: t("col.obligation"), render: (p) => String(p.slot) },
        { title: t("col.holder"), render: (p) => partyNode(p.owner) },
        { title: t("col.value"), render: (p) => money(p.value, kit.state.currency.get(Number(p.slot))), class: "money" },
        { title: t("col.tier"), render: (p) => String(p.depth + 1) },
        { title: t("col.marks"), render: (p) => (p.frozen ? t("mark.frozen") : p.burned ? t("mark.redeemed") : "—") },
        { title: t("col.actions"), render: (p) => lineageLink(p.token_id) },
      ]),
      ...section("search.documents", found.documents, [
        { title: t("search.fingerprint"), render: (d) => h("span", { class: "mono", title: d.fingerprint }, short(d.fingerprint)) },
        { title: t("search.kind"), render: (d) => t(`search.doc.${d.kind}`) },
        { title: t("search.seller"), render: (d) => partyNode(d.seller) },
        { title: t("search.buyer"), render: (d) => partyNode(d.buyer) },
        { title: t("col.value"), render: (d) => money(d.amount, d.currency), class: "money" },
        { title: t("col.obligation"), render: (d) => (d.used_by_slot ? String(d.used_by_slot) : "—") },
        { title: t("col.actions"), render: (d) => (d.used_by_slot && roots.get(d.used_by_slot) ? lineageLink(roots.get(d.used_by_slot)) : "—") },
      ]),
      ...section("search.offers", found.offers, [
        { title: t("col.offer"), render: (o) => `#${o.offer_id}` },
        { title: t("offers.bank"), render: (o) => partyNode(o.bank) },
        { title: t("col.token"), render: (o) => `#${o.token_id}`, class: "token-id" },
        { title: t("col.value"), render: (o) => money(o.value), class: "money" },
        { title: t("col.status"), render: (o) => kit.statePill(o.status) },
        { title: t("col.actions"), render: (o) => lineageLink(o.financed_token_id ?? o.token_id) },
      ]),
      ...section("search.events", found.events, [
        { title: t("search.event"), render: (e) => h("span", { class: "mono" }, e.name) },
        { title: t("history.block"), render: (e) => String(e.block_number) },
        { title: t("history.time"), render: (e) => dateOf(e.block_timestamp) },
      ]),
    ];
    const who = term === $("#search-q").value.trim() ? term : `${$("#search-q").value.trim()} → ${nameOf(term) || short(term)}`;
    body.replaceChildren(h("p", { class: "search-summary" }, t(parts.length ? "search.summary" : "search.nothing", { query: who })), ...parts);
    panel.dataset.status = "ready";
  } catch (error) {
    body.replaceChildren();
    kit.showProblem(problem, error);
    panel.dataset.status = "error";
  }
}

async function loadRecoveries(body) {
  const { h, table } = kit;
  const rows = await kit.state.api.list("/regulator/recoveries");
  await kit.namesFor(rows);
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("recoveries.none")));
    return;
  }
  body.replaceChildren(
    table(
      [
        { title: t("recoveries.lost"), render: (r) => partyNode(r.lost) },
        { title: t("recoveries.replacement"), render: (r) => partyNode(r.replacement) },
        { title: t("recoveries.case"), render: (r) => r.case_ref || h("span", { class: "mono", title: r.case_hash }, short(r.case_hash)) },
        { title: t("col.state"), render: (r) => h("span", { class: `pill state state-${r.state}`, "data-state": r.state }, t(`recovery.state.${r.state}`)) },
        { title: t("recoveries.requested"), render: (r) => dateOf(r.requested_at) },
        { title: t("recoveries.moved"), render: (r) => count(r.tokens_moved) },
        { title: t("recoveries.left"), render: (r) => count(r.tokens_left) },
      ],
      rows.slice().reverse(),
      { rowClass: () => "recovery-row" },
    ),
  );
}

// ------------------------------------------------------------------------------------ reports

function period() {
  const from = $("#report-from").value;
  const to = $("#report-to").value;
  if (!from || !to) return null;
  return new URLSearchParams({ from, to });
}

function flowCell(line, flow) {
  const f = line[flow] || { count: 0, amount: 0 };
  return kit.h("span", {}, money(f.amount), kit.h("span", { class: "hint flow-count" }, ` (${count(f.count)})`));
}

function lineLabel(line, dimension) {
  if (dimension === "tier") return t("tier.n", { n: line.key });
  if (line.key === "total") return t("reports.total");
  return line.legal_name || nameOf(line.key) || partyNode(line.key);
}

function reportTable(report) {
  const { h, table } = kit;
  const lines = [
    ...report.by_core_enterprise.map((l) => ({ ...l, dimension: "core" })),
    ...report.by_tier.map((l) => ({ ...l, dimension: "tier" })),
    ...report.by_bank.map((l) => ({ ...l, dimension: "bank" })),
    { ...report.totals, key: "total", dimension: "total" },
  ];
  const reconciled = report.reconciliation;
  return [
    h("p", { class: "report-period" }, t("reports.period", { from: report.period_from, to: report.period_to })),
    table(
      [
        { title: t("reports.dimension"), render: (l) => t(`reports.dim.${l.dimension}`) },
        { title: t("reports.line"), render: (l) => lineLabel(l, l.dimension) },
        ...FLOWS.map((flow) => ({ title: t(`reports.flow.${flow}`), render: (l) => flowCell(l, flow), class: `money flow-${flow}` })),
        { title: t("reports.price"), render: (l) => money(l.financing_price), class: "money" },
      ],
      lines,
      { rowClass: (l) => `report-row report-${l.dimension}` },
    ),
    reconciled
      ? h("p", { class: reconciled.reconciled ? "report-check ok" : "report-check warn", "data-reconciled": String(reconciled.reconciled) }, t(reconciled.reconciled ? "reports.reconciled" : "reports.notReconciled", { block: reconciled.at_block, n: count(reconciled.obligations) }))
      : "",
  ];
}

async function showReport() {
  const panel = $("#panel-reports");
  const problem = $(".problem", panel);
  const body = $(".body", panel);
  kit.showProblem(problem, null);
  const query = period();
  if (!query) return kit.localProblem(problem, t("reports.needPeriod"));
  panel.dataset.status = "loading";
  try {
    const report = await kit.state.api.get(`/regulator/reports/periodic?${query}`);
    await kit.namesFor([...report.by_core_enterprise, ...report.by_bank].map((l) => l.key));
    body.replaceChildren(...reportTable(report));
    panel.dataset.status = "ready";
  } catch (error) {
    body.replaceChildren();
    kit.showProblem(problem, error);
    panel.dataset.status = "error";
  }
}

async function saveReport(path, fallback) {
  const panel = $("#panel-reports");
  const problem = $(".problem", panel);
  const outcome = $(".outcome", panel);
  kit.showProblem(problem, null);
  outcome.hidden = true;
  const query = period();
  if (!query) return kit.localProblem(problem, t("reports.needPeriod"));
  panel.dataset.download = "loading";
  try {
    const file = await download(kit.state.api, `${path}?${query}`, fallback);
    outcome.textContent = t("download.done", { name: file.name, size: count(file.size) });
    outcome.hidden = false;
    panel.dataset.download = "done";
  } catch (error) {
    kit.showProblem(problem, error);
    panel.dataset.download = "refused";
  }
}

/** Today and the first of this month, as the calendar days of the date fields (YYYY-MM-DD). */
function defaultPeriod() {
  const today = new Date();
  const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  if (!$("#report-to").value) $("#report-to").value = day(today);
  if (!$("#report-from").value) $("#report-from").value = day(new Date(today.getFullYear(), today.getMonth(), 1));
}

export function install(given) {
  kit = given;
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  $("#report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showReport();
  });
  $("#report-csv").addEventListener("click", () => saveReport("/regulator/reports/periodic.csv", "tierchain-periodic.csv"));
  $("#audit-csv").addEventListener("click", () => saveReport("/regulator/audit.csv", "tierchain-audit.csv"));
}

export async function load(shown) {
  const work = [];
  if (shown("panel-recoveries")) work.push(kit.fill("panel-recoveries", "/regulator/recoveries", loadRecoveries));
  if (shown("panel-reports")) {
    defaultPeriod();
    const body = $("#panel-reports .body");
    if (!body.childNodes.length) body.replaceChildren(kit.h("p", { class: "hint" }, t("reports.choose")));
    $("#panel-reports").dataset.status = "ready";
  }
  if (shown("panel-search")) {
    const body = $("#panel-search .body");
    if ($("#search-q").value.trim() && body.childNodes.length) work.push(search()); // a language switch: draw it again
    else $("#panel-search").dataset.status = "ready";
  }
  await Promise.all(work);
}
