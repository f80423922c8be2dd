// Live updates: the caller's ledger events from GET /v1/events/stream (server-sent events). The
// browser's EventSource cannot send the API key, so the stream is read with fetch and a
// ReadableStream, parsed frame by frame here, and reopened with backoff and Last-Event-ID when it
// drops. Events arriving while the stream first catches up on history are not news: they only move
// the cursor. Later events are handed to `onEvents` in debounced batches.

/** Incremental parser of the text/event-stream format: feed it chunks, it returns whole messages. */
export class SseParser {
  constructor() {
    this.buffer = "";
    this.fields = { id: null, event: "message", data: [] };
    this.lastId = null;
    this.retry = null;
  }

  /** Messages completed by `chunk`: {id, event, data} (data joined with newlines). */
  feed(chunk) {
    this.buffer += chunk;
    const out = [];
    let newline;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  line(line) {
    if (line === "") {
      const { id, event, data } = this.fields;
      this.fields = { id: null, event: "message", data: [] };
      if (id !== null) this.lastId = id;
      if (!data.length) return null; // a comment, an id alone or a retry: nothing to dispatch
      return { id: this.lastId, event, data: data.join("\n") };
    }
    if (line.startsWith(":")) return null; // heartbeat comment
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "id" && !value.includes("\0")) this.fields.id = value;
    else if (name === "event") this.fields.event = value || "message";
    else if (name === "data") this.fields.data.push(value);
    else if (name === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

const QUIET_MS = 800; // no message for this long after opening: caught up on history
const DEBOUNCE_MS = 300;
const STALL_MS = 45_000; // heartbeats come every 15 s: silence this long means a dead connection
const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/**
 * Follow the caller's events until `stop()`.
 * key: the API key; onEvents(events): a debounced batch of parsed events;
 * onState(state): "connecting" | "live" | "reconnecting" | "stopped" (refused key).
 */
export function followEvents({ key, base = "/v1", onEvents, onState }) {
  let stopped = false;
  let controller = null;
  let lastId = null;
  let failures = 0;
  let pending = [];
  let debounce = null;
  let caughtUp = false;
  let timer = null;

  const setState = (state) => {
    if (!stopped || state === "stopped") onState(state);
  };

  const flush = () => {
    debounce = null;
    const batch = pending;
    pending = [];
    if (batch.length && !stopped) onEvents(batch);
  };

  const deliver = (message) => {
    let body = null;
    try {
      body = JSON.parse(message.data);
    } catch {
      body = { raw: message.data };
    }
    pending.push({ id: message.id, name: message.event, ...body });
    if (debounce === null) debounce = setTimeout(flush, DEBOUNCE_MS);
  };

  async function once() {
    controller = new AbortController();
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${key}` };
    if (lastId !== null) headers["last-event-id"] = lastId; // HTTP headers are case-insensitive
    const response = await fetch(`${base}/events/stream`, { headers, cache: "no-store", signal: controller.signal });
    if (response.status === 401 || response.status === 403) {
      stopped = true;
      setState("stopped");
      return;
    }
    if (!response.ok || !response.body) throw new Error(`event stream: HTTP ${response.status}`);
    failures = 0;
    const parser = new SseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let quiet = null;
    const settle = () => {
      clearTimeout(quiet);
      if (!caughtUp) {
        quiet = setTimeout(() => {
          caughtUp = true;
          setState("live");
        }, QUIET_MS);
      }
    };
    const watchdog = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), STALL_MS);
    };
    if (caughtUp) setState("live");
    settle();
    watchdog();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        watchdog();
        for (const message of parser.feed(value)) {
          if (caughtUp) deliver(message);
          else settle();
        }
        if (parser.lastId !== null) lastId = parser.lastId; // an id-only frame moves it too
      }
    } finally {
      clearTimeout(quiet);
      clearTimeout(timer);
    }
  }

  async function run() {
    setState("connecting");
    while (!stopped) {
      try {
        await once();
      } catch {
        // dropped or refused: try again below
      }
      if (stopped) break;
      setState("reconnecting");
      const wait = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  run();
  return {
    stop() {
      stopped = true;
      clearTimeout(debounce);
      clearTimeout(timer);
      if (controller) controller.abort();
    },
  };
}

/** Which panels an event concerns, by its name (unknown names: every panel). */
const CONCERNS = [
  [/freez|frozen/i, ["panel-holdings", "panel-supervision", "lineage"]],
  [/move|pending/i, ["panel-holdings", "panel-incoming", "lineage"]],
  [/offer|request|financ|limit/i, ["panel-holdings", "panel-offers", "panel-market", "panel-book", "panel-limits", "lineage"]],
  [/recourse|claim/i, ["panel-recourse", "panel-book"]],
  [/propos|confirm|reject/i, ["panel-proposals", "panel-obligations"]],
  [/deposit|repay|redeem|default|state|matur/i, ["panel-obligations", "panel-calendar", "panel-repay", "panel-holdings", "lineage"]],
  [/transfer|split|merge|slot|approv|issu|mint|burn/i, ["panel-holdings", "panel-obligations", "panel-book", "panel-exposures", "lineage"]],
];

export const EVERY_PANEL = [
  "panel-holdings", "panel-incoming", "panel-offers", "panel-market", "panel-book", "panel-obligations",
  "panel-calendar", "panel-repay", "panel-proposals", "panel-recourse", "panel-limits", "panel-exposures",
  "panel-supervision", "lineage",
];

/** The panels a batch of events concerns. */
export function panelsFor(events) {
  const out = new Set();
  for (const event of events) {
    const name = String(event.name || "");
    const hit = CONCERNS.filter(([pattern]) => pattern.test(name));
    for (const id of hit.length ? hit.flatMap(([, ids]) => ids) : EVERY_PANEL) out.add(id);
  }
  return out;
}

/** The header's indicator: "live" or "reconnecting", translated, announced politely. */
export function liveIndicator(t) {
  let node = document.getElementById("live-status");
  if (!node) {
    node = document.createElement("span");
    node.id = "live-status";
    node.className = "live-status";
    node.setAttribute("role", "status");
    node.setAttribute("aria-live", "polite");
    const anchor = document.getElementById("sign-out");
    anchor.parentNode.insertBefore(node, anchor);
  }
  return {
    show(state) {
      node.hidden = state === "off";
      node.dataset.live = state;
      const key = `live.${state}`;
      node.dataset.i18n = key;
      node.textContent = t(key);
    },
  };
}
