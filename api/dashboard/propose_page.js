// 发起确权申请: a supplier proposes an obligation to a core enterprise (POST /v1/obligations/proposals),
// citing the attested invoices it issued to it; the core enterprise then confirms it in 待确权. Below
// the form, the supplier's own proposals and their state (GET /v1/obligations/proposals).

import { dateOf, has, money, stateWord, t } from "./i18n.js";
import { parseMajor } from "./money.js";
import { isMe, partyNode, partyText, short } from "./names.js";

export const PANELS = ["panel-propose"];
let kit = null;
let docsAsked = 0;

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Asia/Shanghai keeps UTC+8 all year: a calendar day's 00:00 there, in unix seconds. */
const SHANGHAI_OFFSET = 8 * 3600;
/** The largest amount sent as a JSON number without losing units. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** "YYYY-MM-DD" → unix seconds at 00:00 Asia/Shanghai, or null when not a date. */
export function maturityOf(day) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day || ""));
  if (!match) return null;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / 1000 - SHANGHAI_OFFSET;
}

/** Today's calendar day in Asia/Shanghai, shifted by `days`, as "YYYY-MM-DD". */
function shanghaiDay(days) {
  return new Date(Date.now() + SHANGHAI_OFFSET * 1000 + days * 86400 * 1000).toISOString().slice(0, 10);
}

function panel() {
  return $("#panel-propose");
}

// ------------------------------------------------------------------------------------ the form

async function fillObligors() {
  const { h } = kit;
  const select = $("#propose-obligor");
  const chosen = select.value;
  const directory = await kit.loadDirectory();
  const cores = directory.filter((e) => (e.roles || []).includes("CORE_ENTERPRISE") && !isMe(e.address));
  select.replaceChildren(
    h("option", { value: "" }, t("propose.chooseObligor")),
    ...cores.map((e) => h("option", { value: e.address, title: e.address }, e.legal_name || short(e.address))),
  );
  if (cores.some((e) => e.address === chosen)) select.value = chosen;
}

function documentLine(doc) {
  const kind = has(`docKind.${doc.kind}`) ? t(`docKind.${doc.kind}`) : doc.kind;
  return t("propose.docLine", { kind, date: dateOf(doc.issue_date), amount: money(doc.amount, doc.currency), id: short(doc.fingerprint) });
}

/** The caller's attested invoices to the chosen obligor in the chosen currency not yet backing an obligation. */
async function loadDocuments() {
  const { h } = kit;
  const box = $("#propose-docs");
  const body = $(".propose-docs-body", box);
  const obligor = $("#propose-obligor").value;
  const currency = currencyOf();
  const ask = ++docsAsked;
  box.dataset.status = "loading";
  if (!obligor || !currency || !kit.state.me) {
    body.replaceChildren(h("p", { class: "hint" }, t("propose.docsChooseObligor")));
    box.dataset.status = "idle";
    return;
  }
  body.replaceChildren(h("p", { class: "hint" }, t("status.loading")));
  const query = new URLSearchParams({ seller: kit.state.me.address, buyer: obligor, kind: "invoice", currency });
  let docs;
  try {
    docs = await kit.state.api.list(`/documents?${query}`);
  } catch {
    if (ask !== docsAsked) return;
    body.replaceChildren(h("p", { class: "hint" }, t("propose.docsUnavailable")));
    box.dataset.status = "unavailable";
    return;
  }
  if (ask !== docsAsked) return; // another obligor or currency was chosen meanwhile
  const free = (Array.isArray(docs) ? docs : []).filter((d) => d.used_by_slot === null || d.used_by_slot === undefined);
  kit.state.proposeDocs = free;
  if (!free.length) {
    body.replaceChildren(h("p", { class: "propose-docs-none" }, t("propose.noDocuments", { name: partyText(obligor) })));
    box.dataset.status = "none";
    return;
  }
  body.replaceChildren(
    ...free.map((doc, i) => {
      const id = `propose-doc-${i}`;
      return h(
        "div",
        { class: "check" },
        h("input", { type: "checkbox", id, class: "propose-doc", value: doc.fingerprint }),
        h("label", { for: id, title: doc.fingerprint }, documentLine(doc)),
      );
    }),
  );
  box.dataset.status = "ready";
}

function currencyOf() {
  const code = $("#propose-currency").value.trim().toUpperCase();
  return /^[A-Z]{3}$/.test(code) ? code : null;
}

/** The form as a proposal request, or {error: sentence, field: selector} naming what is wrong. */
function readProposal() {
  const obligor = $("#propose-obligor").value;
  if (!obligor) return { error: t("propose.needObligor"), field: "#propose-obligor" };
  const currency = currencyOf();
  if (!currency) return { error: t("propose.needCurrency"), field: "#propose-currency" };
  const face = parseMajor($("#propose-face").value);
  if (face === null || face <= 0n || face > MAX_EXACT) return { error: t("propose.needFace"), field: "#propose-face" };
  const minUnit = parseMajor($("#propose-min-unit").value);
  if (minUnit === null || minUnit <= 0n || minUnit > face) return { error: t("propose.needMinUnit"), field: "#propose-min-unit" };
  if (face % minUnit !== 0n) return { error: t("propose.notMultiple", { face: money(face.toString(), currency), unit: money(minUnit.toString(), currency) }), field: "#propose-face" };
  const maturity = maturityOf($("#propose-maturity").value);
  if (maturity === null) return { error: t("propose.needMaturity"), field: "#propose-maturity" };
  if (maturity <= Date.now() / 1000) return { error: t("propose.maturityPast"), field: "#propose-maturity" };
  const chosen = new Set($$("#propose-docs input.propose-doc:checked").map((c) => c.value));
  const documents = (kit.state.proposeDocs || []).filter((d) => chosen.has(d.fingerprint));
  if (!documents.length) return { error: t("propose.needDocument"), field: $("#propose-docs input.propose-doc") ? "#propose-docs input.propose-doc" : "#propose-obligor" };
  const code = $("#propose-justification").value.trim() || "0";
  if (!/^\d{1,5}$/.test(code) || Number(code) > 65535) return { error: t("propose.needJustification"), field: "#propose-justification" };
  const agreedTerm = $("#propose-agreed-term").value.trim();
  if (agreedTerm.length > 512) return { error: t("propose.agreedTermTooLong"), field: "#propose-agreed-term" };
  return { obligor, currency, face, minUnit, maturity, documents, justification: Number(code), agreedTerm };
}

function preview() {
  const { h } = kit;
  const problem = $(".problem", panel());
  kit.showProblem(problem, null);
  $(".outcome", panel()).hidden = true;
  const proposal = readProposal();
  if (proposal.error) {
    kit.localProblem(problem, proposal.error);
    const field = $(proposal.field);
    if (field) field.focus();
    return;
  }
  kit.state.proposeDraft = proposal;
  const cur = proposal.currency;
  $(".body-review", $("#propose-review")).replaceChildren(
    h("p", { class: "review-obligor" }, t("propose.reviewObligor"), " ", partyNode(proposal.obligor)),
    h("p", { class: "review-face" }, t("propose.reviewFace", { face: money(proposal.face.toString(), cur), currency: cur })),
    h("p", { class: "review-maturity" }, t("propose.reviewMaturity", { date: dateOf(proposal.maturity) })),
    h("p", { class: "review-min-unit" }, t("propose.reviewMinUnit", { unit: money(proposal.minUnit.toString(), cur) })),
    h("p", {}, t("propose.reviewDocuments", { n: proposal.documents.length })),
    h("ul", { class: "review-documents" }, proposal.documents.map((d) => h("li", { title: d.fingerprint }, documentLine(d)))),
    proposal.justification ? h("p", { class: "review-justification" }, t("propose.reviewJustification", { code: proposal.justification })) : "",
    proposal.agreedTerm ? h("p", { class: "review-agreed-term" }, t("propose.reviewAgreedTerm", { term: proposal.agreedTerm })) : "",
    h("p", { class: "hint" }, t("propose.reviewHow")),
  );
  $("#propose-form").hidden = true;
  const review = $("#propose-review");
  review.hidden = false;
  review.focus();
}

async function send() {
  const proposal = kit.state.proposeDraft;
  if (!proposal) return;
  const body = {
    obligor: proposal.obligor,
    currency: proposal.currency,
    face: Number(proposal.face),
    maturity: proposal.maturity,
    min_unit: Number(proposal.minUnit),
    documents: proposal.documents.map((d) => d.fingerprint),
  };
  if (proposal.justification) body.tenor_justification = proposal.justification;
  if (proposal.agreedTerm) body.agreed_term = proposal.agreedTerm;
  const answer = await kit.runWrite(
    panel(),
    $("#propose-review"),
    () => kit.state.api.post("/obligations/proposals", body),
    (result) => kit.h("div", { class: "propose-done", "data-proposal-id": result.proposal_id }, t("propose.done", { id: result.proposal_id, obligor: partyText(proposal.obligor) })),
    async () => {
      await kit.fill("panel-propose", "/obligations/proposals", loadMine);
    },
  );
  if (!answer) {
    $("#propose-review").hidden = true;
    $("#propose-form").hidden = false;
    return;
  }
  kit.state.proposeDraft = null;
  $("#propose-form").reset();
  $("#propose-form").hidden = false;
  await loadDocuments();
}

// ------------------------------------------------------------------------------------ the list

async function loadMine(body) {
  const { h, table } = kit;
  const rows = (await kit.state.api.list("/obligations/proposals")).filter((p) => isMe(p.supplier));
  await kit.namesFor(rows.map((p) => p.obligor));
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("propose.none")));
    return;
  }
  body.replaceChildren(
    table(
      [
        { title: t("proposals.id"), render: (p) => `#${p.proposal_id}`, class: "proposal-id" },
        { title: t("col.obligor"), render: (p) => partyNode(p.obligor) },
        { title: t("col.face"), render: (p) => money(p.face, p.currency), class: "money" },
        { title: t("col.maturity"), render: (p) => dateOf(p.maturity) },
        { title: t("proposals.checks"), render: (p) => t("proposals.documents", { n: (p.documents || []).length }) },
        { title: t("col.state"), render: (p) => stateLine(p) },
      ],
      [...rows].reverse(),
      { rowClass: () => "my-proposal" },
    ),
  );
}

function stateLine(p) {
  const word = has(`propose.status.${p.status}`) ? t(`propose.status.${p.status}`) : stateWord(p.status);
  const parts = [kit.h("span", { class: "pill", "data-status": p.status }, word)];
  if (p.status === "confirmed" && p.slot !== null) parts.push(" ", t("propose.slot", { slot: p.slot }));
  if (p.status === "rejected" && p.reason_code !== null) {
    const key = `proposals.reason.${p.reason_code}`;
    parts.push(" ", has(key) ? t(key) : t("propose.reasonCode", { code: p.reason_code }));
  }
  return parts;
}

// ------------------------------------------------------------------------------------ wiring

function setDefaults() {
  const maturity = $("#propose-maturity");
  maturity.min = shanghaiDay(1);
  if (!maturity.value) maturity.value = shanghaiDay(90);
}

export function install(given) {
  kit = given;
  $("#propose-obligor").addEventListener("change", () => loadDocuments());
  $("#propose-currency").addEventListener("change", () => loadDocuments());
  $("#propose-form").addEventListener("submit", (event) => {
    event.preventDefault();
    preview();
  });
  $("#propose-form").addEventListener("reset", () => setTimeout(setDefaults, 0));
  $("#propose-send").addEventListener("click", () => send());
  kit.wireBack("propose", "#propose-face", "#propose-form");
}

export async function load(shown) {
  if (!shown("panel-propose")) return;
  setDefaults();
  await fillObligors();
  await Promise.all([loadDocuments(), kit.fill("panel-propose", "/obligations/proposals", loadMine)]);
}
