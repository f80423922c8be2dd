// 中登网登记: for each financing a bank settled, its registration record (GET
// /v1/financing/offers/{id}/registration, as JSON or CSV) to file with 中登网, and the number 中登网 gave
// it, recorded on-chain once entered (POST …/registration-number) and shown from then on.

import { download } from "./download.js";
import { count, dateOf, money, t } from "./i18n.js";
import { partyNode } from "./names.js";

export const PANELS = ["panel-registration"];
const NUMBER = /^[0-9A-Za-z-]{1,64}$/;
let kit = null;

const $ = (selector, root = document) => root.querySelector(selector);

function numberCell(entry) {
  const { h } = kit;
  if (entry.registration_number) return h("span", { class: "mono reg-number", "data-number": entry.registration_number }, entry.registration_number);
  return h("span", { class: "pill reg-missing" }, t("registration.missing"));
}

function actions(entry) {
  const { h } = kit;
  const id = entry.offer_id;
  return [
    h("button", { type: "button", class: "small secondary", "data-record": id, "data-format": "json", "aria-label": t("registration.jsonN", { id }), onclick: () => save(id, "json") }, t("registration.json")),
    " ",
    h("button", { type: "button", class: "small secondary", "data-record": id, "data-format": "csv", "aria-label": t("registration.csvN", { id }), onclick: () => save(id, "csv") }, t("registration.csv")),
    " ",
    h("input", { type: "text", class: "reg-input", id: `reg-number-${id}`, autocomplete: "off", spellcheck: "false", maxlength: 64, "aria-label": t("registration.numberN", { id }), value: entry.registration_number || "" }),
    " ",
    h("button", { type: "button", class: "small", "data-register": id, onclick: () => preview(entry) }, t(entry.registration_number ? "registration.correct" : "registration.record")),
  ];
}

async function loadRegistrations(body) {
  const { h, table } = kit;
  const rows = (await kit.state.api.list("/financing/book")).filter((e) => e.status === "financed");
  kit.state.registrations = rows;
  await kit.namesFor(rows.map((e) => e.holder));
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("registration.none")));
    return;
  }
  const cur = (e) => kit.state.currency.get(Number(e.slot)) || e.currency_code;
  body.replaceChildren(
    table(
      [
        { title: t("col.offer"), render: (e) => `#${e.offer_id}` },
        { title: t("col.token"), render: (e) => `#${e.financed_token_id}`, class: "token-id" },
        { title: t("col.value"), render: (e) => money(e.value, cur(e)), class: "money" },
        { title: t("registration.transferor"), render: (e) => partyNode(e.holder) },
        { title: t("col.maturity"), render: (e) => dateOf(e.maturity) },
        { title: t("registration.number"), render: numberCell },
        { title: t("col.actions"), render: actions },
      ],
      rows,
      { rowClass: (e) => `registration-row${e.registration_number ? " registered" : ""}` },
    ),
  );
}

async function save(offerId, format) {
  const panel = $("#panel-registration");
  const problem = $(".problem", panel);
  const outcome = $(".outcome", panel);
  kit.showProblem(problem, null);
  outcome.hidden = true;
  panel.dataset.download = "loading";
  const suffix = format === "csv" ? ".csv" : "";
  try {
    const file = await download(kit.state.api, `/financing/offers/${Number(offerId)}/registration${suffix}`, `tierchain-registration-offer-${Number(offerId)}.${format}`);
    outcome.replaceChildren(t("download.done", { name: file.name, size: count(file.size) }));
    outcome.hidden = false;
    panel.dataset.download = "done";
  } catch (error) {
    kit.showProblem(problem, error);
    panel.dataset.download = "refused";
  }
}

function preview(entry) {
  const panel = $("#panel-registration");
  const problem = $(".problem", panel);
  kit.showProblem(problem, null);
  $(".outcome", panel).hidden = true;
  const number = $(`#reg-number-${entry.offer_id}`).value.trim();
  if (!NUMBER.test(number)) return kit.localProblem(problem, t("registration.badNumber"));
  if (number === entry.registration_number) return kit.localProblem(problem, t("registration.same", { number }));
  kit.state.registering = { entry, number };
  const { h } = kit;
  $(".body-review", $("#registration-review")).replaceChildren(
    h("p", { class: "review-registration" }, t("registration.review", { id: entry.offer_id, number })),
    entry.registration_number ? h("p", { class: "warn" }, t("registration.reviewCorrects", { previous: entry.registration_number })) : "",
    h("p", { class: "hint" }, t("registration.reviewHow")),
  );
  const review = $("#registration-review");
  review.hidden = false;
  review.focus();
}

async function send() {
  const chosen = kit.state.registering;
  if (!chosen) return;
  const { entry, number } = chosen;
  const answer = await kit.runWrite(
    $("#panel-registration"),
    $("#registration-review"),
    () => kit.state.api.post(`/financing/offers/${Number(entry.offer_id)}/registration-number`, { registration_number: number }),
    (result) => kit.h("div", { class: "registration-done" }, t("registration.done", { id: result.offer_id, number: result.registration_number })),
    () => kit.fill("panel-registration", "/financing/book", loadRegistrations),
  );
  if (answer) kit.state.registering = null;
}

export function install(given) {
  kit = given;
  $("#registration-send").addEventListener("click", () => send());
  kit.wireBack("registration", "#panel-registration .reg-input");
}

export async function load(shown) {
  if (shown("panel-registration")) await kit.fill("panel-registration", "/financing/book", loadRegistrations);
}
