// The live view's chart of events over time, drawn as inline SVG (no library, no CDN).
// Uses svg(), eventMs() and formatTime() of live.js, which is loaded after this file.
"use strict";

const PALETTE = ["#5b4cdb", "#1f9d63", "#e6a700", "#ef5d5d", "#2d8fd5", "#9a9fb0"];

const DAY_MS = 24 * 3600 * 1000;

// Events over time, one line per event name (the five most frequent, then "other"). When most
// events are from the last day, the chart shows that day and counts the older ones (imported
// history) apart, so a few old events do not squeeze today into one column.
function renderChart(all) {
  const box = $("#chart");
  const width = Math.max((box.clientWidth || 720) - 24, 360), height = 150, left = 34, bottom = 22, bins = 40;
  const root = svg("svg", { width, height, id: "chart-svg", role: "img", "aria-label": "events over time per event name" });
  const newest = Math.max(0, ...all.map(eventMs));
  const recent = all.filter((item) => eventMs(item) > newest - DAY_MS);
  const shown = recent.length * 2 >= all.length ? recent : all;
  const times = shown.map(eventMs).filter((t) => t > 0);
  if (!times.length) {
    root.append(svg("text", { x: left, y: height / 2, class: "muted" }, "No events to chart yet."));
    box.replaceChildren(root);
    return;
  }
  const hi = Math.max(...times), lo = Math.min(Math.min(...times), hi - 60000), span = hi - lo + 1;
  const counts = new Map();
  for (const item of shown) counts.set(item.event, (counts.get(item.event) || 0) + 1);
  const names = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([n]) => n);
  const top = names.slice(0, 5);
  const series = new Map([...top, ...(names.length > 5 ? ["other"] : [])].map((n) => [n, new Array(bins).fill(0)]));
  for (const item of shown) {
    const t = eventMs(item);
    if (!t) continue;
    const bin = Math.min(bins - 1, Math.floor(((t - lo) / span) * bins));
    series.get(top.includes(item.event) ? item.event : "other")[bin] += 1;
  }
  const peak = Math.max(1, ...[...series.values()].flat());
  const plotW = width - left - 190, plotH = height - bottom - 8;
  const x = (i) => left + (plotW * (i + 0.5)) / bins;
  const y = (v) => 8 + plotH - (plotH * v) / peak;
  root.append(svg("line", { x1: left, x2: left + plotW, y1: 8 + plotH, y2: 8 + plotH, class: "axis" }));
  root.append(svg("text", { x: left - 4, y: 16, "text-anchor": "end" }, String(peak)));
  root.append(svg("text", { x: left - 4, y: 8 + plotH, "text-anchor": "end" }, "0"));
  root.append(svg("text", { x: left, y: height - 6 }, formatTime(lo).slice(0, 16)));
  root.append(svg("text", { x: left + plotW, y: height - 6, "text-anchor": "end" }, formatTime(hi).slice(0, 16)));
  if (shown.length < all.length) {
    root.append(svg("text", { x: left + plotW / 2, y: height - 6, "text-anchor": "middle", class: "older" },
      `last 24 hours; ${all.length - shown.length} older event(s) not charted`));
  }
  [...series.entries()].forEach(([name, values], i) => {
    const color = PALETTE[i % PALETTE.length];
    root.append(svg("polyline", { points: values.map((v, b) => `${x(b)},${y(v)}`).join(" "), fill: "none",
      stroke: color, "stroke-width": 2, class: "series", "data-event": name }));
    values.forEach((v, b) => { if (v) root.append(svg("circle", { cx: x(b), cy: y(v), r: 3, fill: color })); });
    root.append(svg("rect", { x: left + plotW + 14, y: 10 + i * 18, width: 10, height: 10, fill: color }));
    root.append(svg("text", { x: left + plotW + 30, y: 19 + i * 18 }, `${name} (${name === "other" ? values.reduce((a, b) => a + b, 0) : counts.get(name)})`));
  });
  box.replaceChildren(root);
}
