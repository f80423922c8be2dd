// Money arrives as integer minor units and is shown with two decimals. Only string and BigInt
// operations touch it: a float would round 0.1 + 0.2 and lose units above 2^53.

/** An integer amount as a BigInt: from a BigInt, a safe integer Number, or a string of digits. */
export function toBigInt(value) {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not an exact integer amount: ${value}`);
    return BigInt(value);
  }
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`not an integer amount: ${String(value)}`);
}

/** "1234567" minor units → "12,345.67"; null and undefined → "—" (hidden or unknown). */
export function formatMinor(value, decimals = 2) {
  if (value === null || value === undefined) return "—";
  const amount = toBigInt(value);
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = decimals > 0 ? `.${digits.slice(digits.length - decimals)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** `formatMinor` with the currency code after it when there is one. */
export function formatMoney(value, currency) {
  const shown = formatMinor(value);
  return currency && value !== null && value !== undefined ? `${shown} ${currency}` : shown;
}

/** Exact sum of integer amounts, as a BigInt. */
export function sumMinor(values) {
  return values.reduce((total, v) => total + toBigInt(v), 0n);
}

/** "1,234.5" (major units, as typed) → minor units as a BigInt, or null when not an amount. */
export function parseMajor(text, decimals = 2) {
  const clean = String(text || "").replace(/[,\s，]/g, "");
  const match = new RegExp(`^(\\d+)(?:\\.(\\d{1,${decimals}}))?$`).exec(clean);
  if (!match) return null;
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt((match[2] || "").padEnd(decimals, "0"));
}
