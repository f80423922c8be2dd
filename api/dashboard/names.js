// Names, not hex: each party by its legal name from the participant directory
// (GET /v1/participants/{address}/profile), the address on hover and a copy button. The directory
// is read by the participant itself, a regulator or the operator; anyone else sees a short
// address. Lookups are cached for the page (until sign-out).

import { t } from "./i18n.js";

const names = new Map(); // lower-case address → legal name, or null (none on file / not readable)
let me = null;
let seesEveryone = false;

export function short(address) {
  return typeof address === "string" && address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : String(address ?? "—");
}

/** Start a page's cache: who signed in, and whether the directory is open to them. */
export function resetNames(address = null, overseer = false) {
  names.clear();
  me = address ? address.toLowerCase() : null;
  seesEveryone = overseer;
}

/** Look up the addresses not yet known (those the caller may read), in parallel; never throws. */
export async function learnNames(api, addresses) {
  const wanted = [
    ...new Set(
      addresses
        .filter((a) => typeof a === "string" && /^0x[0-9a-fA-F]{40}$/.test(a))
        .map((a) => a.toLowerCase())
        .filter((a) => !names.has(a)),
    ),
  ];
  await Promise.all(
    wanted.map(async (address) => {
      if (!seesEveryone && address !== me) {
        names.set(address, null);
        return;
      }
      names.set(address, null); // one request per address, even when asked twice at once
      try {
        const profile = await api.get(`/participants/${address}/profile`);
        names.set(address, profile && profile.on_file && profile.legal_name ? profile.legal_name : null);
      } catch {
        names.set(address, null);
      }
    }),
  );
}

/** Names from the participant directory (GET /v1/participants/directory): [{address, legal_name}]. */
export function knowNames(entries) {
  for (const entry of entries || []) {
    if (entry && typeof entry.address === "string" && entry.legal_name) names.set(entry.address.toLowerCase(), entry.legal_name);
  }
}

/** The legal name on file for `address`, or null. */
export function nameOf(address) {
  return typeof address === "string" ? names.get(address.toLowerCase()) ?? null : null;
}

export function isMe(address) {
  return Boolean(me && typeof address === "string" && address.toLowerCase() === me);
}

/** A party as text: its legal name, else a short address; "(you)" after the caller's own. */
export function partyText(address) {
  if (!address) return "—";
  const shown = nameOf(address) || short(address);
  return isMe(address) ? t("party.you", { name: shown }) : shown;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    let done = false;
    try {
      done = document.execCommand("copy");
    } catch {
      done = false;
    }
    area.remove();
    return done;
  }
}

/** A party as an element: name (or short address) with the full address on hover, and a copy button. */
export function partyNode(address) {
  const wrap = document.createElement("span");
  wrap.className = "party";
  if (!address) {
    wrap.textContent = "—";
    return wrap;
  }
  const label = document.createElement("span");
  label.className = nameOf(address) ? "party-name" : "party-name mono";
  label.title = address;
  label.dataset.address = address;
  label.textContent = partyText(address);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.title = t("party.copy");
  button.setAttribute("aria-label", t("party.copyAddress", { address }));
  button.addEventListener("click", async () => {
    const done = await copyText(address);
    button.title = done ? t("party.copied") : t("party.copyFailed");
    button.dataset.copied = done ? "yes" : "no";
    const live = document.getElementById("announcer");
    if (live) live.textContent = button.title;
  });
  wrap.append(label, button);
  return wrap;
}
