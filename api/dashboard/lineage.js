// The lineage of an obligation as an SVG picture: one horizontal band per tier (token depth),
// top to bottom; a box per piece with its holder and value; an edge from each parent to its child.
// Financed and frozen pieces are marked, and a legend says how.

import { money, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const BOX_W = 184;
const BOX_H = 62;
const GAP_X = 22;
const LEVEL_H = 108;
const LABEL_W = 92;
const PAD = 18;
const LEGEND_H = 46;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Width of a text in "Latin character" units: a CJK character is drawn about twice as wide. */
function units(text) {
  return [...String(text)].reduce((n, c) => n + (c.codePointAt(0) >= 0x2e80 ? 1.8 : 1), 0);
}

/** `text` cut to `max` units with an ellipsis (the full text stays in the node's title). */
function fit(text, max) {
  if (units(text) <= max) return text;
  let out = "";
  for (const c of text) {
    if (units(out + c) > max - 1) break;
    out += c;
  }
  return `${out}…`;
}

/** Ancestors and the subtree, as one tree of {view, children}: root → … → parent → token → …. */
export function lineageTree(data) {
  const wrap = (view) => ({ view, children: [] });
  const build = (view) => {
    const node = wrap(view);
    node.children = (view.children || []).map(build);
    return node;
  };
  let top = build(data.tree);
  // Chain the ancestors by depth, deepest first, whatever order the answer lists them in.
  const ancestors = [...(data.ancestors || [])].sort((a, b) => b.depth - a.depth);
  for (const ancestor of ancestors) {
    const node = wrap(ancestor);
    node.children = [top];
    top = node;
  }
  return top;
}

/** x of every node: leaves left to right in order, a parent centred over its children. */
function layout(root) {
  const placed = [];
  let nextLeaf = 0;
  const visit = (node) => {
    if (node.children.length === 0) {
      node.x = nextLeaf;
      nextLeaf += 1;
    } else {
      node.children.forEach(visit);
      node.x = (node.children[0].x + node.children[node.children.length - 1].x) / 2;
    }
    placed.push(node);
  };
  visit(root);
  return { placed, width: Math.max(nextLeaf, 1) };
}

/**
 * Draw `data` (GET /v1/tokens/{id}/lineage) into `host`, replacing what was there.
 * options: currency, focus (token id asked for), financed (Set of token ids),
 * label(address) → holder text, onSelect(view) when a box is clicked.
 */
export function renderLineage(host, data, options = {}) {
  const { currency = "", focus = data.tree.token_id, financed = new Set(), label = (a) => a, onSelect } = options;
  const root = lineageTree(data);
  const { placed, width } = layout(root);
  const depths = [...new Set(placed.map((n) => n.view.depth))].sort((a, b) => a - b);
  const minDepth = depths[0];
  const levels = depths[depths.length - 1] - minDepth + 1;
  const innerW = width * (BOX_W + GAP_X);
  const totalW = LABEL_W + innerW + PAD;
  const totalH = PAD + levels * LEVEL_H + LEGEND_H;
  const xOf = (node) => LABEL_W + node.x * (BOX_W + GAP_X) + GAP_X / 2;
  const yOf = (depth) => PAD + (depth - minDepth) * LEVEL_H + (LEVEL_H - BOX_H) / 2;

  const svg = el("svg", {
    class: "lineage-svg",
    viewBox: `0 0 ${totalW} ${totalH}`,
    width: totalW,
    height: totalH,
    role: onSelect ? "group" : "img", // an image may not hold the boxes one can press
    "aria-label": t("lineage.aria", { id: focus, nodes: placed.length, levels }),
    "data-nodes": placed.length,
    "data-levels": levels,
  });
  const defs = el("defs");
  const marker = el("marker", {
    id: "lineage-arrow",
    viewBox: "0 0 10 10",
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.append(el("path", { d: "M0,0 L10,5 L0,10 z", class: "edge-head" }));
  defs.append(marker);
  svg.append(defs);

  for (let i = 0; i < levels; i += 1) {
    const depth = minDepth + i;
    const band = el("g", { class: "level", "data-depth": depth });
    band.append(el("rect", { x: 0, y: PAD + i * LEVEL_H, width: totalW, height: LEVEL_H, class: i % 2 ? "band odd" : "band" }));
    band.append(el("text", { x: 12, y: PAD + i * LEVEL_H + LEVEL_H / 2 - 4, class: "level-label" }, t("tier.n", { n: depth + 1 })));
    band.append(el("text", { x: 12, y: PAD + i * LEVEL_H + LEVEL_H / 2 + 12, class: "level-sub" }, t("lineage.depth", { n: depth })));
    svg.append(band);
  }

  const edges = el("g", { class: "edges" });
  for (const node of placed) {
    for (const child of node.children) {
      const x1 = xOf(node) + BOX_W / 2;
      const y1 = yOf(node.view.depth) + BOX_H;
      const x2 = xOf(child) + BOX_W / 2;
      const y2 = yOf(child.view.depth) - 2;
      const mid = (y1 + y2) / 2;
      edges.append(
        el("path", {
          d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`,
          class: "edge",
          "marker-end": "url(#lineage-arrow)",
          "data-from": node.view.token_id,
          "data-to": child.view.token_id,
        }),
      );
    }
  }
  svg.append(edges);

  const boxes = el("g", { class: "nodes" });
  for (const node of placed) {
    const v = node.view;
    const isFinanced = financed.has(Number(v.token_id));
    const hidden = v.owner === null || v.owner === undefined;
    const classes = ["node"];
    if (v.frozen) classes.push("frozen");
    if (isFinanced) classes.push("financed");
    if (v.burned) classes.push("burned");
    if (hidden) classes.push("hidden");
    if (Number(v.token_id) === Number(focus)) classes.push("focus");
    const x = xOf(node);
    const y = yOf(v.depth);
    const g = el("g", {
      class: classes.join(" "),
      transform: `translate(${x},${y})`,
      "data-token-id": v.token_id,
      "data-depth": v.depth,
      "data-parent-id": v.parent_id ?? "",
      tabindex: 0,
    });
    const marks = [v.frozen && t("mark.frozen"), isFinanced && t("mark.financed"), v.burned && t("mark.redeemed")].filter(Boolean);
    const holderTitle = hidden || !v.owner ? "" : ` · ${label(v.owner)} (${v.owner})`;
    const title = `${t("lineage.tokenN", { id: v.token_id })}${marks.length ? ` (${marks.join(", ")})` : ""}${holderTitle}`;
    g.append(el("title", {}, title));
    g.append(el("rect", { width: BOX_W, height: BOX_H, rx: 8, ry: 8, class: "box" }));
    g.append(el("text", { x: 10, y: 19, class: "node-id" }, `#${v.token_id}`));
    let badgeX = BOX_W - 8;
    const badge = (text, kind) => {
      const w = units(text) * 6.4 + 10;
      badgeX -= w;
      g.append(el("rect", { x: badgeX, y: 7, width: w, height: 16, rx: 8, class: `badge ${kind}` }));
      g.append(el("text", { x: badgeX + w / 2, y: 19, class: `badge-text ${kind}` }, text));
      badgeX -= 4;
    };
    if (v.frozen) badge(t("badge.frozen"), "frozen-badge");
    if (isFinanced) badge(t("badge.financed"), "financed-badge");
    if (v.burned) badge(t("badge.redeemed"), "burned-badge");
    g.append(el("text", { x: 10, y: 38, class: "node-holder", "data-address": hidden ? "" : v.owner || "" }, hidden ? t("lineage.holderHidden") : fit(label(v.owner), 28)));
    g.append(el("text", { x: 10, y: 54, class: "node-value" }, hidden ? t("lineage.valueHidden") : money(v.value, currency)));
    if (onSelect) {
      // Named by its <title> (token, marks, holder), not by an aria-label that would hide what it shows.
      g.setAttribute("role", "button");
      g.addEventListener("click", () => onSelect(v));
      g.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") onSelect(v);
      });
    }
    boxes.append(g);
  }
  svg.append(boxes);

  const legend = el("g", { class: "legend", transform: `translate(${LABEL_W},${PAD + levels * LEVEL_H + 14})` });
  const entries = [
    ["", t("legend.piece")],
    ["financed", t("legend.financed")],
    ["frozen", t("legend.frozen")],
    ["burned", t("legend.redeemed")],
    ["hidden", t("legend.hidden")],
  ];
  let lx = 0;
  for (const [kind, text] of entries) {
    const item = el("g", { class: `legend-item node ${kind}`.trim(), transform: `translate(${lx},0)` });
    item.append(el("rect", { width: 26, height: 18, rx: 4, class: "box" }));
    item.append(el("text", { x: 32, y: 13, class: "legend-text" }, text));
    legend.append(item);
    lx += 48 + units(text) * 7.2;
  }
  svg.append(legend);
  // The picture is at least as wide as its legend.
  const needW = LABEL_W + lx + PAD;
  if (needW > totalW) {
    svg.setAttribute("viewBox", `0 0 ${needW} ${totalH}`);
    svg.setAttribute("width", needW);
    for (const band of svg.querySelectorAll("rect.band")) band.setAttribute("width", needW);
  }

  host.replaceChildren(svg);
  return svg;
}
