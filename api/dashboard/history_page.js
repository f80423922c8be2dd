// 我的流水: every event touching the caller's pieces (GET /v1/participants/me/history), newest first,
// and the whole of it as a CSV file (…/history.csv, UTF-8 with a byte-order mark for Excel).

import { download } from "./download.js";
import { count, dateOf, money, t } from "./i18n.js";
import { partyNode } from "./names.js";

export const PANELS = ["panel-history"];
const SHOWN = 50; // rows on the page; the file holds every one
let kit = null;

const $ = (selector, root = document) => root.querySelector(selector);

function kindWord(kind) {
  return t(`history.kind.${kind}`);
}

async function loadHistory(body) {
  const { h, table } = kit;
  const rows = await kit.state.api.list("/participants/me/history");
  await kit.namesFor(rows.map((r) => r.counterparty));
  $("#history-count").textContent = t("history.count", { n: count(rows.length) });
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("history.none")));
    return;
  }
  const latest = rows.slice(-SHOWN).reverse();
  body.replaceChildren(
    table(
      [
        { title: t("history.time"), render: (e) => dateOf(e.time) },
        { title: t("history.block"), render: (e) => String(e.block), class: "mono" },
        { title: t("history.kind"), render: (e) => h("span", { class: `pill history-${e.kind}`, "data-kind": e.kind }, kindWord(e.kind)) },
        { title: t("col.token"), render: (e) => `#${e.token_id}`, class: "token-id" },
        { title: t("col.obligation"), render: (e) => (e.obligation === null ? "—" : String(e.obligation)) },
        { title: t("history.counterparty"), render: (e) => (e.counterparty ? partyNode(e.counterparty) : "—") },
        { title: t("col.value"), render: (e) => (e.value === null ? "—" : money(e.value, e.currency_code)), class: "money" },
      ],
      latest,
      { rowClass: () => "history-row" },
    ),
    rows.length > SHOWN ? h("p", { class: "hint" }, t("history.more", { shown: SHOWN, n: count(rows.length) })) : "",
  );
}

async function save() {
  const panel = $("#panel-history");
  const problem = $(".problem", panel);
  const outcome = $(".outcome", panel);
  kit.showProblem(problem, null);
  outcome.hidden = true;
  const button = $("#history-download");
  button.disabled = true;
  panel.dataset.download = "loading";
  try {
    const file = await download(kit.state.api, "/participants/me/history.csv", "tierchain-history.csv");
    outcome.textContent = t("download.done", { name: file.name, size: count(file.size) });
    outcome.hidden = false;
    panel.dataset.download = "done";
  } catch (error) {
    kit.showProblem(problem, error);
    panel.dataset.download = "refused";
  } finally {
    button.disabled = false;
  }
}

export function install(given) {
  kit = given;
  $("#history-download").addEventListener("click", () => save());
}

export async function load(shown) {
  if (shown("panel-history")) await kit.fill("panel-history", "/participants/me/history", loadHistory);
}
