// Self-custody writes: the service holds no key for this participant, so each operation is prepared
// by the API (POST /v1/tx/prepare), shown as the unsigned transaction it is, signed here by the
// participant's own wallet (an EIP-1193 provider, `window.ethereum`) or offline (the signed raw
// transaction pasted in), then relayed (POST /v1/tx/submit). Several operations (a payment to
// several receivers) are signed one after another, each prepared after the previous one is mined.

import { Problem } from "./api.js";

/** A refusal made on this page (no HTTP status): shown like the API's problems. */
function localRefusal(slug, detail) {
  return new Problem(0, { type: slug, title: slug, detail });
}

function hex(value) {
  return `0x${BigInt(value).toString(16)}`;
}

/** The prepared transaction as an EIP-1193 `eth_signTransaction` parameter (hex quantities). */
export function rpcTransaction(tx, from) {
  const out = { from, to: tx.to, data: tx.data, value: hex(tx.value || 0), gas: hex(tx.gas), nonce: hex(tx.nonce), chainId: hex(tx.chainId) };
  if (tx.type === "legacy") {
    out.type = "0x0";
    out.gasPrice = hex(tx.gasPrice);
  } else {
    out.type = "0x2";
    out.maxFeePerGas = hex(tx.maxFeePerGas);
    out.maxPriorityFeePerGas = hex(tx.maxPriorityFeePerGas);
  }
  return out;
}

const RAW_TX = /^0x(?:[0-9a-fA-F]{2})+$/;

/**
 * Sign and send `operations` (bodies of /v1/tx/prepare) one by one from inside `panel`; `words(op)`
 * says what each does. Resolves like a custodial write ({tx_hash, block_number, result}), the
 * result listing every transaction; rejects with the API's problem or a refusal said here.
 */
export async function signOperations({ api, me, panel, operations, words, h, t, onWaiting }) {
  const sent = [];
  for (const [index, operation] of operations.entries()) {
    const tx = await api.post("/tx/prepare", operation);
    const raw = await askSignature({ me, panel, tx, step: { n: index + 1, of: operations.length, what: words(operation) }, h, t, onWaiting });
    if (onWaiting) onWaiting(false);
    const answer = await api.post("/tx/submit", { raw_tx: raw });
    sent.push(answer);
  }
  const last = sent[sent.length - 1];
  return {
    tx_hash: last.tx_hash,
    block_number: last.block_number,
    result: { self_signed: true, transactions: sent.map((a) => a.tx_hash) },
  };
}

/** The signing box: the unsigned transaction in words and figures, then a wallet or a pasted signature. */
function askSignature({ me, panel, tx, step, h, t, onWaiting }) {
  for (const old of panel.querySelectorAll(".sign-box")) old.remove();
  const id = `${panel.id}-sign`;
  const wallet = typeof window.ethereum === "object" && window.ethereum !== null && typeof window.ethereum.request === "function";
  const bytes = Math.max(0, (String(tx.data).length - 2) / 2);
  const fee = tx.type === "legacy" ? t("wallet.feeLegacy", { price: String(tx.gasPrice) }) : t("wallet.feeEip1559", { max: String(tx.maxFeePerGas), tip: String(tx.maxPriorityFeePerGas) });
  const problem = h("div", { class: "problem sign-problem", role: "alert", hidden: true });
  const textarea = h("textarea", { id: `${id}-raw`, class: "sign-raw mono", rows: "4", spellcheck: "false", autocomplete: "off", placeholder: "0x02f8…" });
  const submitRaw = h("button", { type: "button", class: "sign-submit-raw" }, t("wallet.submitRaw"));
  const useWallet = wallet ? h("button", { type: "button", class: "sign-wallet" }, t("wallet.useWallet")) : null;
  const cancel = h("button", { type: "button", class: "secondary sign-cancel" }, t("wallet.cancel"));
  const facts = [
    [t("wallet.to"), tx.to],
    [t("wallet.dataSize"), t("wallet.bytes", { n: bytes })],
    [t("wallet.gas"), String(tx.gas)],
    [t("wallet.nonce"), String(tx.nonce)],
    [t("wallet.chain"), String(tx.chainId)],
    [t("wallet.fee"), fee],
  ];
  const box = h(
    "div",
    { class: "sign-box review", id, role: "group", "aria-labelledby": `${id}-title`, tabindex: "-1", "data-nonce": tx.nonce, "data-to": tx.to },
    h("h3", { id: `${id}-title` }, t("wallet.title", { n: step.n, of: step.of })),
    h("p", { class: "sign-what" }, step.what),
    h("p", { class: "hint" }, t("wallet.why")),
    h("dl", { class: "sign-facts" }, facts.flatMap(([term, value]) => [h("dt", {}, term), h("dd", { class: "mono" }, value)])),
    h("details", {}, h("summary", {}, t("wallet.showData")), h("pre", { class: "mono sign-data" }, tx.data)),
    wallet ? h("p", { class: "hint" }, t("wallet.walletFound")) : h("p", { class: "hint" }, t("wallet.noWallet")),
    h("label", { for: `${id}-raw` }, t("wallet.pasteLabel")),
    textarea,
    h("div", { class: "buttons" }, useWallet, submitRaw, cancel),
    problem,
  );
  const anchor = panel.querySelector(":scope > .progress") || panel.querySelector(":scope > .outcome");
  panel.insertBefore(box, anchor);
  panel.dataset.sign = "waiting";
  if (onWaiting) onWaiting(true);
  box.focus();

  return new Promise((resolve, reject) => {
    const done = (raw) => {
      box.remove();
      panel.dataset.sign = "signed";
      resolve(raw);
    };
    const refuse = (sentence) => {
      problem.replaceChildren(h("strong", { class: "sentence" }, sentence));
      problem.hidden = false;
    };
    submitRaw.addEventListener("click", () => {
      const raw = textarea.value.trim();
      if (!RAW_TX.test(raw)) return refuse(t("wallet.badRaw"));
      done(raw);
    });
    if (useWallet) {
      useWallet.addEventListener("click", async () => {
        useWallet.disabled = true;
        problem.hidden = true;
        try {
          const signed = await window.ethereum.request({ method: "eth_signTransaction", params: [rpcTransaction(tx, me.address)] });
          const raw = typeof signed === "string" ? signed : signed && signed.raw;
          if (!RAW_TX.test(String(raw || ""))) throw new Error(t("wallet.badRaw"));
          done(raw);
        } catch (error) {
          refuse(t("wallet.walletRefused", { reason: String((error && error.message) || error) }));
        } finally {
          useWallet.disabled = false;
        }
      });
    }
    cancel.addEventListener("click", () => {
      box.remove();
      panel.dataset.sign = "cancelled";
      reject(localRefusal("signing-cancelled", t("wallet.cancelledDetail")));
    });
  });
}
