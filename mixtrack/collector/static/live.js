// The collector's live view: polls the query API and renders events as they arrive.
"use strict";

const $ = (selector) => document.querySelector(selector);
const MAX_ROWS = 2000;
const state = { after: 0, events: [], stored: 0, paused: false, selected: null, tab: "events", audited: -1, auditedAt: 0 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function formatTime(seconds) {
  if (typeof seconds !== "number") return "";
  const ms = seconds > 1e11 ? seconds : seconds * 1000;
  return new Date(ms).toLocaleTimeString([], { hour12: false }) + "." + String(Math.floor(ms % 1000)).padStart(3, "0");
}

function matches(item) {
  const name = $("#filter-event").value.trim().toLowerCase();
  const id = $("#filter-distinct-id").value.trim().toLowerCase();
  const distinct = String(item.properties.distinct_id ?? "").toLowerCase();
  return (!name || item.event.toLowerCase().includes(name)) && (!id || distinct.includes(id));
}

function row(item, fresh) {
  const props = item.properties;
  // With `mixtrack collector --plan`, each event says whether it keeps to the plan.
  const offPlan = item.plan && !item.plan.ok;
  const classes = [fresh ? "fresh" : "", offPlan ? "off-plan" : ""].filter(Boolean).join(" ");
  const tr = el(
    "tr",
    { "data-seq": item.seq, "data-event": item.event, class: classes },
    el("td", { class: "mono" }, formatTime(props.time ?? item.received_at)),
    el(
      "td",
      { class: "event", title: offPlan ? item.plan.reasons.join("\n") : "" },
      item.event,
      offPlan ? el("span", { class: "plan-flag" }, " off plan") : "",
    ),
    el("td", { class: "mono" }, props.distinct_id ?? ""),
    el("td", {}, "/" + item.endpoint),
    el("td", { class: "muted" }, props.mp_lib ?? ""),
  );
  tr.addEventListener("click", () => select(item, tr));
  tr.hidden = !matches(item);
  return tr;
}

function select(item, tr) {
  document.querySelectorAll("#events tr.selected").forEach((node) => node.classList.remove("selected"));
  tr.classList.add("selected");
  state.selected = item.seq;
  const detail = $("#event-detail");
  detail.replaceChildren(
    el("h2", {}, "Properties"),
    el("h3", {}, item.event),
    item.plan && !item.plan.ok
      ? el("ul", { id: "plan-reasons" }, ...item.plan.reasons.map((reason) => el("li", {}, reason)))
      : "",
    el("pre", { id: "event-properties" }, JSON.stringify(item.properties, null, 2)),
  );
}

function applyFilters() {
  let shown = 0;
  const bySeq = new Map(state.events.map((item) => [String(item.seq), item]));
  for (const tr of document.querySelectorAll("#events tbody tr")) {
    const visible = matches(bySeq.get(tr.dataset.seq));
    tr.hidden = !visible;
    if (visible) shown += 1;
  }
  $("#shown").textContent = state.events.length ? `${shown} of ${state.events.length} shown` : "";
  $("#empty").hidden = state.events.length > 0;
}

function addEvents(items) {
  if (!items.length) return;
  const body = $("#events tbody");
  const fragment = document.createDocumentFragment();
  for (const item of items.slice().reverse()) fragment.append(row(item, true));
  body.prepend(fragment);
  state.events.push(...items);
  while (state.events.length > MAX_ROWS) {
    state.events.shift();
    body.lastElementChild.remove();
  }
  applyFilters();
}

function clearEvents() {
  state.after = 0;
  state.events = [];
  $("#events tbody").replaceChildren();
  applyFilters();
}

function renderStats(stats) {
  // everything in the store, also what an earlier run of the collector kept
  $("#stat-events").textContent = stats.stored ? stats.stored.events : stats.events_stored;
  $("#stat-duplicates").textContent = stats.duplicates_dropped;
  $("#stat-rejected").textContent = stats.rejected;
  $("#stat-requests").textContent = stats.requests;
}

function renderExperiments(experiments) {
  const card = $("#experiments");
  if (!experiments.length) return;
  const parts = [el("h2", {}, "Experiments")];
  for (const experiment of experiments) {
    const variants = Object.entries(experiment.variants);
    const total = variants.reduce((sum, [, v]) => sum + v.users, 0) || 1;
    parts.push(el("h3", { "data-experiment": experiment.experiment }, experiment.experiment));
    for (const [name, counts] of variants) {
      const bar = el("div", { class: "bar" });
      bar.style.width = `${Math.round((100 * counts.users) / total)}%`;
      parts.push(
        el("div", { class: "variant", "data-variant": name },
          el("span", {}, name), el("div", {}, bar), el("span", { class: "mono" }, `${counts.users} ${counts.users === 1 ? "user" : "users"}`)),
      );
    }
  }
  card.replaceChildren(...parts);
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Users per variant as horizontal bars; a dark tick marks the planned share.
function variantChart(experiment) {
  const variants = Object.entries(experiment.variants);
  const width = 330, row = 22, label = 80, chart = width - label - 90;
  const root = svg("svg", { width, height: row * variants.length + 4, class: "variant-chart", role: "img",
    "aria-label": `users per variant of ${experiment.experiment}` });
  variants.forEach(([name, v], i) => {
    const y = i * row + 2;
    root.append(svg("text", { x: 0, y: y + 14 }, name));
    root.append(svg("rect", { x: label, y: y + 3, width: chart, height: 14, rx: 3, fill: "#eceaff" }));
    root.append(svg("rect", { x: label, y: y + 3, width: Math.round(chart * v.share), height: 14, rx: 3,
      fill: "#5b4cdb", class: "bar", "data-variant": name, "data-users": v.users }));
    if (v.planned !== null) {
      const x = label + Math.round(chart * v.planned);
      root.append(svg("line", { x1: x, x2: x, y1: y + 1, y2: y + 19, class: "planned" }));
    }
    root.append(svg("text", { x: label + chart + 6, y: y + 14 }, `${v.users} (${(100 * v.share).toFixed(1)}%)`));
  });
  return root;
}

function renderAudit(audit) {
  const parts = [el("h2", {}, "Launch audit")];
  for (const experiment of audit.experiments) {
    parts.push(el("h3", { "data-experiment": experiment.experiment }, experiment.experiment));
    parts.push(variantChart(experiment));
    const srm = experiment.sample_ratio;
    if (srm) {
      const split = srm.assumed_even_split ? "even split" : "planned split";
      parts.push(el("p", { class: "muted srm" }, `sample ratio vs ${split}: p = ${srm.p_value.toPrecision(3)}`));
    }
  }
  for (const [name, u] of Object.entries(audit.unseen || {})) {
    // Exposure when visible: people the page reached whose variant never came into view.
    parts.push(el("p", { class: "muted unseen", "data-experiment": name, "data-never-seen": u.never_seen },
      `${name}: ${u.never_seen} of ${u.rendered} rendered never seen (${(100 * u.share).toFixed(1)}%)`));
  }
  if (!audit.findings.length) {
    parts.push(el("p", { class: "ok", id: "audit-clean" }, audit.experiments.length ? "No problems found." : "No exposures yet."));
  } else {
    parts.push(el("p", { class: "muted" }, `${audit.errors} error(s), ${audit.warnings} warning(s)`));
    parts.push(el("ul", { class: "findings", id: "audit-findings" },
      ...audit.findings.map((f) => el("li", { class: f.severity, "data-code": f.code, title: f.fix },
        el("strong", {}, `${f.severity}: ${f.code}`), " ", f.experiment ? `[${f.experiment}] ` : "", f.message))));
  }
  $("#audit").replaceChildren(...parts);
}

async function refreshAudit(stored) {
  // The audit reads every stored event: run it when events changed (at most every 2 s while
  // they pour in), not on every poll.
  const age = Date.now() - state.auditedAt;
  if ((stored === state.audited && age < 10000) || age < 2000) return;
  renderAudit(await getJSON("/_mixtrack/audit"));
  state.audited = stored;
  state.auditedAt = Date.now();
}

async function refreshProfiles() {
  const { profiles } = await getJSON("/_mixtrack/profiles");
  $("#profiles tbody").replaceChildren(
    ...profiles.map((p) =>
      el("tr", {}, el("td", { class: "mono" }, p.distinct_id), el("td", {}, el("pre", {}, JSON.stringify(p.properties, null, 2)))),
    ),
  );
}

async function refreshRejected() {
  const { rejected } = await getJSON("/_mixtrack/rejected");
  $("#rejected tbody").replaceChildren(
    ...rejected.reverse().map((r) =>
      el("tr", {}, el("td", { class: "mono" }, formatTime(r.received_at)), el("td", {}, "/" + r.endpoint),
        el("td", {}, r.status), el("td", {}, r.reason)),
    ),
  );
}

async function poll() {
  try {
    const stats = await getJSON("/_mixtrack/stats");
    if (stats.stored.events < state.stored) clearEvents(); // the collector was reset
    state.stored = stats.stored.events;
    renderStats(stats);
    if (!state.paused) {
      const page = await getJSON(`/_mixtrack/events?meta=1&limit=500&after=${state.after}`);
      state.after = page.after;
      addEvents(page.events);
    }
    renderExperiments((await getJSON("/_mixtrack/experiments")).experiments);
    await refreshAudit(state.stored);
    if (state.tab === "profiles") await refreshProfiles();
    if (state.tab === "rejected") await refreshRejected();
    $("#status").textContent = "live";
    $("#status").className = "status live";
  } catch (error) {
    $("#status").textContent = "collector unreachable";
    $("#status").className = "status down";
  }
  setTimeout(poll, 500);
}

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    state.tab = tab.dataset.tab;
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
    document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.id === `panel-${state.tab}`));
    if (state.tab === "profiles") refreshProfiles();
    if (state.tab === "rejected") refreshRejected();
  });
}
$("#filter-event").addEventListener("input", applyFilters);
$("#filter-distinct-id").addEventListener("input", applyFilters);
$("#pause").addEventListener("click", () => {
  state.paused = !state.paused;
  $("#pause").textContent = state.paused ? "Resume" : "Pause";
});
$("#ingest-url").textContent = `${location.origin}/track`;
poll();
