// The HTTP side: every call carries the signed-in API key; errors come back as RFC 9457 problem
// details and are thrown as `Problem`; JSON integers beyond 2^53 are parsed exactly as BigInt.

export class Problem extends Error {
  constructor(status, body) {
    const detail = body && typeof body === "object" ? body.detail || body.title : String(body || "");
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.body = body && typeof body === "object" ? body : { title: `HTTP ${status}`, detail };
  }

  /** The endpoint is not there (yet) on this server: a panel shows "not available". */
  get unavailable() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

/** JSON.parse that keeps big integers exact (the reviver sees each number's source text). */
export function parseJson(text) {
  return JSON.parse(text, (_key, value, context) => {
    if (typeof value === "number" && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

export class Api {
  constructor(key, base = "/v1") {
    this.key = key;
    this.base = base;
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${this.key}` };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${this.base}${path}`, init);
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = parseJson(text);
      } catch {
        parsed = { title: response.statusText, detail: text.slice(0, 300) };
      }
    }
    if (!response.ok) throw new Problem(response.status, parsed);
    return parsed;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body ?? {});
  }

  put(path, body) {
    return this.request("PUT", path, body ?? {});
  }

  /** Every row of a list endpoint: follows `next_cursor` of a page, or returns a bare array. */
  async list(path, maxPages = 50) {
    const first = await this.get(path);
    if (Array.isArray(first)) return first;
    if (!first || !Array.isArray(first.items)) return first;
    const rows = [...first.items];
    let cursor = first.next_cursor;
    for (let page = 1; cursor && page < maxPages; page += 1) {
      const joiner = path.includes("?") ? "&" : "?";
      const next = await this.get(`${path}${joiner}cursor=${encodeURIComponent(cursor)}`);
      rows.push(...next.items);
      cursor = next.next_cursor;
    }
    return rows;
  }
}
