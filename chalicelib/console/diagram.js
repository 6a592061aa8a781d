// The state diagram, laid out from the transition table the API serves (read
// from the domain's TRANSITIONS): nothing here names a state. Columns are the
// longest path from the initial state; an edge to the next column is a curve,
// an edge that skips columns runs along a lane under the boxes; an event that
// keeps the state (an audit event) is listed inside its state's box.
import { formatAge, h, s } from "./dom.js";

const BOX_W = 200;
const LINE = 14;
const COL_GAP = 150;
const ROW_GAP = 34;
const PAD = 24;
const LANE_GAP = 22;

const short = (event) => event.replace(/^application\./, "");

function layers(states, moves) {
  const layer = new Map(states.map((st) => [st.state, 0]));
  for (let i = 0; i < states.length; i += 1) {
    for (const m of moves) layer.set(m.to, Math.max(layer.get(m.to), layer.get(m.from) + 1));
  }
  return layer;
}

export function stateDiagram(workflow, now = Date.now()) {
  const states = workflow.states;
  const moves = workflow.transitions.filter((t) => t.from && t.from !== t.to);
  const loops = workflow.transitions.filter((t) => t.from && t.from === t.to);
  const starts = workflow.transitions.filter((t) => !t.from);
  const layer = layers(states, moves);
  const loopsOf = (state) => loops.filter((l) => l.from === state).map((l) => short(l.event));
  const BOX_H = 48 + LINE * Math.max(0, ...states.map((st) => loopsOf(st.state).length));
  const columns = [];
  for (const st of states) (columns[layer.get(st.state)] ||= []).push(st);
  const tallest = Math.max(...columns.map((c) => c.length));
  const pos = new Map();
  columns.forEach((column, ci) => {
    const offset = ((tallest - column.length) * (BOX_H + ROW_GAP)) / 2;
    column.forEach((st, ri) => pos.set(st.state, {
      x: PAD + 40 + ci * (BOX_W + COL_GAP), y: PAD + offset + ri * (BOX_H + ROW_GAP),
    }));
  });
  const skips = moves.filter((m) => layer.get(m.to) - layer.get(m.from) > 1);
  const boxesBottom = PAD + tallest * (BOX_H + ROW_GAP) - ROW_GAP;
  const width = PAD * 2 + 40 + columns.length * BOX_W + (columns.length - 1) * COL_GAP;
  const height = boxesBottom + PAD + (skips.length + 1) * LANE_GAP;

  const edges = s("g", { class: "edges" });
  const labels = s("g", { class: "edge-labels" });
  const label = (x, y, text) => {
    const width = text.length * 6.6 + 8;
    labels.append(s("g", { class: "edge-label" },
      s("rect", { x: x - width / 2, y: y - 9, width, height: 16, rx: 3 }),
      s("text", { x, y: y + 3, "text-anchor": "middle" }, text)));
  };
  const entries = new Map(); // how many lane edges already enter each state, to spread them
  for (const m of moves) {
    const a = pos.get(m.from);
    const b = pos.get(m.to);
    const title = s("title", {}, `${m.from} → ${m.to} on ${m.event}`);
    if (!skips.includes(m)) {
      const x1 = a.x + BOX_W;
      const y1 = a.y + BOX_H / 2;
      const x2 = b.x;
      const y2 = b.y + BOX_H / 2;
      const mx = (x1 + x2) / 2;
      edges.append(s("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, class: "edge", "marker-end": "url(#arrow)" }, title));
      label(mx, (y1 + y2) / 2, short(m.event));
    } else {
      const lane = boxesBottom + LANE_GAP * (skips.indexOf(m) + 1);
      const k = entries.get(m.to) || 0;
      entries.set(m.to, k + 1);
      // leave by the right into the gap after the source's column, down to a lane of its own,
      // along it, and up the gap before the target's column: never through another box
      const i = skips.indexOf(m);
      const y1 = a.y + BOX_H / 2 + 8 + i * 4;
      const sx = a.x + BOX_W + 14 + i * 8;
      const gx = b.x - 18 - k * 10;
      const y2 = b.y + BOX_H / 2 + 8 + k * 6;
      edges.append(s("path", {
        d: `M${a.x + BOX_W},${y1} L${sx - 6},${y1} Q${sx},${y1} ${sx},${y1 + 6} L${sx},${lane - 6} Q${sx},${lane} ${sx + 6},${lane} L${gx - 6},${lane} Q${gx},${lane} ${gx},${lane - 6} L${gx},${y2 + 6} Q${gx},${y2} ${gx + 6},${y2} L${b.x - 2},${y2}`,
        class: "edge edge-lane", "marker-end": "url(#arrow)",
      }, title));
      const x1 = sx;
      label((x1 + gx) / 2, lane, `${short(m.event)} (from ${m.from})`);
    }
  }
  for (const st of starts) {
    const b = pos.get(st.to);
    edges.append(s("circle", { cx: PAD + 6, cy: b.y + BOX_H / 2, r: 6, class: "start" }, s("title", {}, `start: ${st.event}`)));
    edges.append(s("path", { d: `M${PAD + 12},${b.y + BOX_H / 2} L${b.x - 2},${b.y + BOX_H / 2}`, class: "edge", "marker-end": "url(#arrow)" }));
  }

  const boxes = s("g", { class: "states" });
  for (const st of states) {
    const p = pos.get(st.state);
    const own = loopsOf(st.state);
    const age = st.oldest_since ? `oldest ${formatAge(Math.max(0, now - Date.parse(st.oldest_since)))}` : "none";
    boxes.append(s("g", { class: `state ${st.final ? "state-final" : "state-open"} state-${st.state.toLowerCase()}`, id: `diagram-${st.state}` },
      s("title", {}, `${st.state}: ${st.count} application(s)${own.length ? `; also records ${own.join(", ")}` : ""}`),
      s("rect", { x: p.x, y: p.y, width: BOX_W, height: BOX_H, rx: 8 }),
      s("text", { x: p.x + 10, y: p.y + 19, class: "state-name" }, st.state),
      s("text", { x: p.x + 10, y: p.y + 40, class: "state-count" }, String(st.count)),
      s("text", { x: p.x + BOX_W - 10, y: p.y + 39, class: "state-age", "text-anchor": "end" }, age),
      own.map((loop, i) => s("text", { x: p.x + 10, y: p.y + 58 + i * LINE, class: "state-loops" }, `↻ ${loop}`))));
  }

  return h("figure", { class: "diagram" },
    s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "diagram-caption", class: "diagram-svg" },
      s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }))),
      edges, boxes, labels),
    h("figcaption", { id: "diagram-caption" }, "The workflow's states and transitions, generated from the domain's transition table, "
      + "with the number of applications in each state and the age of the oldest."));
}
