// 密钥遗失恢复 (the operator): a participant that lost its key is recovered to a replacement address
// under a case reference. The operator requests it (POST /v1/participants/{lost}/recovery), reads its
// status (GET …/recovery) and may withdraw it (DELETE …/recovery?case_ref=); approving it and moving
// its pieces are the enforcement key's steps (POST …/recovery/approve, …/recovery/tokens), which the
// service refuses with a sentence when it holds no enforcement key.

import { count, dateOf, t } from "./i18n.js";
import { partyNode } from "./names.js";

export const PANELS = ["panel-recovery"];
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
let kit = null;

const $ = (selector, root = document) => root.querySelector(selector);

function form() {
  return {
    lost: $("#recovery-lost").value.trim(),
    replacement: $("#recovery-replacement").value.trim(),
    caseRef: $("#recovery-case").value.trim(),
    note: $("#recovery-note").value.trim(),
  };
}

function clear() {
  const panel = $("#panel-recovery");
  kit.showProblem($(".problem", panel), null);
  $(".outcome", panel).hidden = true;
  $("#recovery-review").hidden = true;
  return panel;
}

/** The form's fields the step needs, or a sentence naming the one missing. */
function check(fields, needs) {
  if (!ADDRESS.test(fields.lost)) return t("recovery.needLost");
  if (needs.includes("replacement") && !ADDRESS.test(fields.replacement)) return t("recovery.needReplacement");
  if (needs.includes("replacement") && fields.replacement.toLowerCase() === fields.lost.toLowerCase()) return t("recovery.sameAddress");
  if (needs.includes("case") && !fields.caseRef) return t("recovery.needCase");
  return null;
}

async function showStatus() {
  const panel = clear();
  const fields = form();
  const wrong = check(fields, []);
  const body = $(".body", panel);
  if (wrong) return kit.localProblem($(".problem", panel), wrong);
  panel.dataset.status = "loading";
  try {
    const status = await kit.state.api.get(`/participants/${fields.lost}/recovery`);
    await kit.namesFor(status);
    drawStatus(body, status);
    panel.dataset.status = "ready";
  } catch (error) {
    body.replaceChildren();
    kit.showProblem($(".problem", panel), error);
    panel.dataset.status = "error";
  }
}

function drawStatus(body, status) {
  const { h, table } = kit;
  const head = h(
    "p",
    { class: "recovery-status", "data-status": status.status },
    t("recovery.statusOf"),
    " ",
    partyNode(status.address),
    " ",
    kit.statePill(status.status),
    status.recovered_to ? [" ", t("recovery.recoveredTo"), " ", partyNode(status.recovered_to)] : "",
  );
  if (!status.recoveries.length) {
    body.replaceChildren(head, h("div", { class: "empty" }, t("recovery.noneOf")));
    return;
  }
  body.replaceChildren(
    head,
    table(
      [
        { title: t("recoveries.replacement"), render: (r) => partyNode(r.replacement) },
        { title: t("recoveries.case"), render: (r) => r.case_ref || r.case_hash },
        { title: t("col.state"), render: (r) => h("span", { class: `pill state state-${r.state}`, "data-state": r.state }, t(`recovery.state.${r.state}`)) },
        { title: t("recoveries.requested"), render: (r) => dateOf(r.requested_at) },
        { title: t("recoveries.moved"), render: (r) => count(r.tokens_moved) },
        { title: t("recoveries.left"), render: (r) => count(r.tokens_left) },
      ],
      status.recoveries,
      { rowClass: () => "recovery-case-row" },
    ),
  );
}

/** Review of a request or a cancellation; the review's button sends it. */
function preview(action) {
  const panel = clear();
  const fields = form();
  const wrong = check(fields, action === "request" ? ["replacement", "case"] : ["case"]);
  if (wrong) return kit.localProblem($(".problem", panel), wrong);
  kit.state.recovery = { action, fields };
  const { h } = kit;
  const lines =
    action === "request"
      ? [
          h("p", { class: "review-recovery" }, t("recovery.reviewRequest", { case: fields.caseRef }), " ", partyNode(fields.lost), " → ", partyNode(fields.replacement)),
          h("p", { class: "hint" }, t("recovery.reviewRequestHow")),
        ]
      : [h("p", { class: "review-recovery" }, t("recovery.reviewCancel", { case: fields.caseRef }), " ", partyNode(fields.lost))];
  $(".body-review", $("#recovery-review")).replaceChildren(...lines);
  $("#recovery-send").textContent = t(action === "request" ? "recovery.confirmRequest" : "recovery.confirmCancel");
  const review = $("#recovery-review");
  review.hidden = false;
  review.focus();
}

async function send() {
  const chosen = kit.state.recovery;
  if (!chosen) return;
  const { action, fields } = chosen;
  const api = kit.state.api;
  const path = `/participants/${fields.lost}/recovery`;
  const call =
    action === "request"
      ? () => api.post(path, { replacement: fields.replacement, case_ref: fields.caseRef, ...(fields.note ? { note: fields.note } : {}) })
      : () => api.request("DELETE", `${path}?${new URLSearchParams({ case_ref: fields.caseRef })}`);
  const answer = await kit.runWrite(
    $("#panel-recovery"),
    $("#recovery-review"),
    call,
    (result) => kit.h("div", { class: "recovery-done" }, t(action === "request" ? "recovery.doneRequest" : "recovery.doneCancel", { case: result.case_ref })),
    () => refreshStatus(fields.lost),
  );
  if (answer) kit.state.recovery = null;
}

async function refreshStatus(lost) {
  try {
    const status = await kit.state.api.get(`/participants/${lost}/recovery`);
    await kit.namesFor(status);
    drawStatus($("#panel-recovery .body"), status);
  } catch {
    // the write's own outcome stands; the status is read again on the next check
  }
}

/** An enforcement step: approve (and move every piece), or move what is left. */
async function enforce(step) {
  const panel = clear();
  const fields = form();
  const wrong = check(fields, ["case"]);
  const problem = $(".problem", panel);
  if (wrong) return kit.localProblem(problem, wrong);
  const progress = $(".progress", panel);
  const outcome = $(".outcome", panel);
  const buttons = [...panel.querySelectorAll("#recovery-enforce button")];
  for (const button of buttons) button.disabled = true;
  progress.textContent = t("write.progress");
  progress.hidden = false;
  panel.dataset.write = "sending";
  try {
    const answer = await kit.state.api.post(`/participants/${fields.lost}/recovery/${step}`, { case_ref: fields.caseRef });
    const moved = (answer.tokens && answer.tokens.batches) || [];
    const ids = moved.flatMap((b) => b.token_ids);
    const { h } = kit;
    outcome.replaceChildren(
      answer.approval ? h("div", { class: "mono tx", "data-tx": answer.approval.tx_hash }, t("write.tx", { tx: answer.approval.tx_hash })) : "",
      h("strong", { class: "recovery-moved" }, t(answer.approval ? "recovery.doneApprove" : "recovery.doneTokens", { n: count(ids.length), batches: count(moved.length) })),
      ids.length ? h("div", { class: "mono" }, ids.map((id) => `#${id}`).join(", ")) : "",
    );
    outcome.hidden = false;
    panel.dataset.write = "done";
    await refreshStatus(fields.lost);
  } catch (error) {
    kit.showProblem(problem, error);
    panel.dataset.write = "refused";
  } finally {
    progress.hidden = true;
    for (const button of buttons) button.disabled = false;
  }
}

export function install(given) {
  kit = given;
  $("#recovery-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showStatus();
  });
  $("#recovery-request").addEventListener("click", () => preview("request"));
  $("#recovery-cancel").addEventListener("click", () => preview("cancel"));
  $("#recovery-send").addEventListener("click", () => send());
  kit.wireBack("recovery", "#recovery-case");
  $("#recovery-approve").addEventListener("click", () => enforce("approve"));
  $("#recovery-tokens").addEventListener("click", () => enforce("tokens"));
}

export async function load(shown) {
  if (shown("panel-recovery")) $("#panel-recovery").dataset.status = "ready";
}
