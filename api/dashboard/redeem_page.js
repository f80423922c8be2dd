// 兑付领取: once its obligor has repaid an obligation, each holder redeems its pieces of it for their
// face value in the obligation's settlement token (POST /v1/repayment/redemptions). The panel lists
// the caller's redeemable pieces and its settlement balances, before and after.

import { load as loadHistory } from "./history_page.js";
import { dateOf, money, t } from "./i18n.js";
import { toBigInt } from "./money.js";
import { partyNode, partyText, short } from "./names.js";

export const PANELS = ["panel-redeem"];
let kit = null;

const $ = (selector, root = document) => root.querySelector(selector);

/** Pieces of repaid obligations the caller still holds, with value left to redeem. */
function redeemable() {
  return (kit.state.holdings || []).filter((r) => r.state === "repaid" && !r.token.burned && toBigInt(r.token.value) > 0n);
}

/** The caller's settlement balances (GET /v1/balances), by currency code. */
async function balances() {
  try {
    const answer = await kit.state.api.get("/balances");
    return new Map((answer.balances || []).map((b) => [b.currency, b]));
  } catch {
    return new Map();
  }
}

function balanceLine(found) {
  const { h } = kit;
  if (!found.size) return h("p", { class: "hint redeem-balance" }, t("redeem.noBalance"));
  return h(
    "p",
    { class: "redeem-balance" },
    t("redeem.balance", { amounts: [...found.values()].map((b) => money(b.balance, b.currency)).join(" · ") }),
  );
}

async function loadRedeem(body) {
  const { h, table } = kit;
  const rows = redeemable();
  await kit.namesFor(rows.map((r) => r.obligor));
  kit.state.balances = await balances();
  if (!rows.length) {
    body.replaceChildren(h("div", { class: "empty" }, t("redeem.none")), balanceLine(kit.state.balances));
    return;
  }
  body.replaceChildren(
    table(
      [
        { title: t("col.token"), render: (r) => `#${r.token.token_id}`, class: "token-id" },
        { title: t("col.obligation"), render: (r) => String(r.token.slot) },
        { title: t("col.obligor"), render: (r) => partyNode(r.obligor) },
        { title: t("col.value"), render: (r) => money(r.token.value, r.currency_code), class: "money" },
        { title: t("col.maturity"), render: (r) => dateOf(r.maturity) },
        { title: t("col.state"), render: (r) => kit.statePill(r.state) },
        {
          title: t("col.actions"),
          render: (r) =>
            h(
              "button",
              { type: "button", class: "small", "data-redeem": r.token.token_id, "aria-label": t("redeem.redeemN", { id: r.token.token_id }), onclick: () => preview(r) },
              t("redeem.redeem"),
            ),
        },
      ],
      rows,
      { rowClass: () => "redeem-row" },
    ),
    balanceLine(kit.state.balances),
  );
}

function preview(row) {
  const panel = $("#panel-redeem");
  kit.showProblem($(".problem", panel), null);
  $(".outcome", panel).hidden = true;
  kit.state.redeem = row;
  const cur = row.currency_code;
  const cash = kit.state.balances && kit.state.balances.get(cur);
  $(".body-review", $("#redeem-review")).replaceChildren(
    kit.h("p", { class: "review-redeem" }, t("redeem.review", { id: row.token.token_id, value: money(row.token.value, cur), slot: row.token.slot }), " ", partyNode(row.obligor)),
    kit.h("p", { class: "review-token", title: cash ? cash.token : "" }, t("redeem.reviewToken", { currency: cur || "—", token: cash ? short(cash.token) : "—" })),
    kit.h("p", { class: "hint" }, t("redeem.reviewHow")),
  );
  const review = $("#redeem-review");
  review.hidden = false;
  review.focus();
}

async function send() {
  const row = kit.state.redeem;
  if (!row) return;
  const cur = row.currency_code;
  const answer = await kit.runWrite(
    $("#panel-redeem"),
    $("#redeem-review"),
    () => kit.state.api.post("/repayment/redemptions", { token_id: Number(row.token.token_id) }),
    (result) => kit.h("div", { class: "redeem-done" }, t("redeem.done", { id: result.token_id, payout: money(result.payout, cur), obligor: partyText(row.obligor) })),
    async () => {
      await kit.refreshHoldings();
      await kit.fill("panel-redeem", "/repayment/redemptions", loadRedeem);
      await loadHistory((id) => !document.getElementById(id).hidden); // the redemption joins the history
    },
  );
  if (answer) kit.state.redeem = null;
}

export function install(given) {
  kit = given;
  $("#redeem-send").addEventListener("click", () => send());
  kit.wireBack("redeem", "#panel-redeem button[data-redeem]");
}

export async function load(shown) {
  if (shown("panel-redeem")) await kit.fill("panel-redeem", "/tokens", loadRedeem);
}
