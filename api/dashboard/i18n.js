// Languages of the page: every text shown comes from a message catalogue (i18n/en.json,
// i18n/zh-CN.json, served with the page). The language is the one chosen in the header (kept in
// localStorage), else zh-CN when the browser prefers Chinese, else English; <html lang> follows.
// Money, dates and states are formatted here for the language: money from integer minor units
// (a decimal string built from BigInt digits, never a float), dates in Asia/Shanghai for zh-CN.

import { formatMinor, toBigInt } from "./money.js";

export const LOCALES = ["zh-CN", "en"];
const STORAGE_KEY = "tierchain.locale";
const catalogues = new Map();
let current = "en";

/** zh-CN when the browser lists Chinese before English (navigator.languages), else English. */
export function browserLocale(languages = navigator.languages || [navigator.language]) {
  for (const tag of languages || []) {
    const lower = String(tag).toLowerCase();
    if (lower === "zh" || lower.startsWith("zh-")) return "zh-CN";
    if (lower === "en" || lower.startsWith("en-")) return "en";
  }
  return "en";
}

function savedLocale() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return LOCALES.includes(saved) ? saved : null;
  } catch {
    return null; // storage refused (private mode): the browser's preference decides
  }
}

/** Fetch both catalogues (same origin, shipped with the page) and pick the starting language. */
export async function loadCatalogues() {
  await Promise.all(
    LOCALES.map(async (locale) => {
      const response = await fetch(`i18n/${locale}.json`, { cache: "no-cache" });
      if (!response.ok) throw new Error(`message catalogue ${locale}: HTTP ${response.status}`);
      catalogues.set(locale, await response.json());
    }),
  );
  current = savedLocale() || browserLocale();
  document.documentElement.lang = current;
  return current;
}

export function locale() {
  return current;
}

/** Switch language, remember it, and retranslate the static page; returns whether it changed. */
export function setLocale(next) {
  if (!LOCALES.includes(next)) return false;
  const changed = next !== current;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered; still switched for this page
  }
  document.documentElement.lang = next;
  translatePage();
  return changed;
}

/** Whether the catalogue of the current language (or English) has `key`. */
export function has(key) {
  return lookup(current, key) !== undefined || lookup("en", key) !== undefined;
}

function lookup(which, key) {
  const catalogue = catalogues.get(which);
  if (!catalogue) return undefined;
  const value = catalogue[key];
  return typeof value === "string" ? value : undefined;
}

/** The message `key` in the current language with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const template = lookup(current, key) ?? lookup("en", key) ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * Translate the static page: `data-i18n` (text), `data-i18n-placeholder`, `data-i18n-aria-label`,
 * `data-i18n-title` name catalogue keys.
 */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const [attr, data] of [
    ["placeholder", "i18nPlaceholder"],
    ["aria-label", "i18nAriaLabel"],
    ["title", "i18nTitle"],
  ]) {
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) node.setAttribute(attr, t(node.dataset[data]));
  }
  document.title = t("app.title");
}

// ------------------------------------------------------------------------------------ formats

/** Integer minor units as an exact decimal string with two places: 123456 → "1234.56". */
function decimalString(value, decimals = 2) {
  const amount = toBigInt(value);
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  return `${negative ? "-" : ""}${whole}.${digits.slice(digits.length - decimals)}`;
}

const numberFormats = new Map();

function numberFormat(currency) {
  const key = `${current}|${currency || ""}`;
  if (!numberFormats.has(key)) {
    const options = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
    let format;
    try {
      format = currency
        ? new Intl.NumberFormat(current, { ...options, style: "currency", currency })
        : new Intl.NumberFormat(current, options);
    } catch {
      format = null; // not an ISO 4217 code: digits, then the code as it came
    }
    numberFormats.set(key, format);
  }
  return numberFormats.get(key);
}

/**
 * Money in the current language: "¥1,000,000.00" (zh-CN), "CN¥1,000,000.00" (en) for CNY. The
 * formatter gets an exact decimal string (Intl.NumberFormat reads strings as decimals, without
 * going through a float); null and undefined → "—".
 */
export function money(value, currency) {
  if (value === null || value === undefined) return "—";
  const format = numberFormat(currency);
  const exact = decimalString(value);
  if (format) {
    const shown = format.format(exact);
    // An engine that rounds strings through a float would lose digits: then fall back to ours.
    if (shown.replace(/\D/g, "").replace(/^0+/, "") === exact.replace(/\D/g, "").replace(/^0+/, "")) return shown;
  }
  const plain = formatMinor(value);
  return currency ? `${plain} ${currency}` : plain;
}

/** A percentage from basis points, in the current language: 450 → "4.50%". */
export function percentFromBps(bps) {
  if (bps === null || bps === undefined) return "—";
  const exact = decimalString(bps);
  return `${new Intl.NumberFormat(current, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(exact)}%`;
}

/** A count in the current language (grouping). */
export function count(value) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(current).format(typeof value === "bigint" ? value : Number(value));
}

/** The time zone dates are shown in: Asia/Shanghai for zh-CN, the browser's own otherwise. */
export function timeZone() {
  return current === "zh-CN" ? "Asia/Shanghai" : undefined;
}

/** A date from Unix seconds, in the current language and time zone. */
export function dateOf(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return "—";
  const format = new Intl.DateTimeFormat(current, { dateStyle: "medium", timeZone: timeZone() });
  return format.format(new Date(Number(seconds) * 1000));
}

/** A calendar day given as "YYYY-MM-DD" (already a day, so shown without any time zone shift). */
export function dayOf(isoDay) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(isoDay || ""));
  if (!match) return isoDay ? String(isoDay) : "—";
  const when = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 12));
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeZone: "UTC" }).format(when);
}

/** A state word (obligation, offer, participant) in the current language; unknown ones as sent. */
export function stateWord(value) {
  if (value === null || value === undefined || value === "") return "—";
  const key = `state.${value}`;
  return has(key) ? t(key) : String(value);
}

/** A role (SUPPLIER, BANK, ...) in the current language. */
export function roleWord(role) {
  const key = `role.${role}`;
  return has(key) ? t(key) : String(role);
}
