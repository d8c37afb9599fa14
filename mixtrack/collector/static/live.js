// The collector's live view: polls the query API and renders events as they arrive.
"use strict";

const $ = (selector) => document.querySelector(selector);
const MAX_ROWS = 5000; // events kept in the page
const SHOWN_ROWS = 500; // rows drawn in the table
const state = { after: 0, events: [], stored: 0, loaded: false, seenSeq: 0, paused: false, selected: null, tab: "events", audited: -1, auditedAt: 0 };

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

// Event times are epoch seconds or milliseconds; shown with their date, in local time.
function toMs(value) {
  if (typeof value !== "number" || !isFinite(value)) return null;
  return value > 1e11 ? value : value * 1000;
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

function formatTime(seconds) {
  const ms = toMs(seconds);
  if (ms === null) return "";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function eventMs(item) {
  return toMs(item.properties.time) ?? toMs(item.received_at) ?? 0;
}

// "NAME=value" (text match, case-insensitive) or "NAME" (the property is set).
function propertyFilter() {
  const text = $("#filter-prop").value.trim();
  if (!text) return null;
  const at = text.indexOf("=");
  if (at < 0) return { name: text, value: null };
  return { name: text.slice(0, at).trim(), value: text.slice(at + 1).trim().toLowerCase() };
}

function chosenColumns() {
  return $("#columns").value.split(",").map((c) => c.trim()).filter(Boolean).slice(0, 6);
}

function matches(item) {
  const name = $("#filter-event").value.trim().toLowerCase();
  const id = $("#filter-distinct-id").value.trim().toLowerCase();
  const distinct = String(item.properties.distinct_id ?? "").toLowerCase();
  if (name && !item.event.toLowerCase().includes(name)) return false;
  if (id && !distinct.includes(id)) return false;
  const prop = propertyFilter();
  if (prop) {
    if (!(prop.name in item.properties)) return false;
    if (prop.value !== null && display(item.properties[prop.name]).toLowerCase() !== prop.value) return false;
  }
  return true;
}

function display(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function row(item) {
  const props = item.properties;
  // With `mixtrack collector --plan`, each event says whether it keeps to the plan.
  const offPlan = item.plan && !item.plan.ok;
  const classes = [item.seq > state.seenSeq ? "fresh" : "", offPlan ? "off-plan" : ""].filter(Boolean).join(" ");
  const who = el("button", { class: "link mono person", title: "this person's events" }, props.distinct_id ?? "");
  who.addEventListener("click", (e) => { e.stopPropagation(); showPerson(String(props.distinct_id)); });
  const tr = el(
    "tr",
    { "data-seq": item.seq, "data-event": item.event, class: classes },
    el("td", { class: "mono time" }, formatTime(props.time ?? item.received_at)),
    el(
      "td",
      { class: "event", title: offPlan ? item.plan.reasons.join("\n") : "" },
      item.event,
      offPlan ? el("span", { class: "plan-flag" }, " off plan") : "",
    ),
    el("td", {}, who),
    ...chosenColumns().map((c) => el("td", { class: "prop", "data-column": c }, display(props[c]))),
    el("td", { class: "mono muted arrived", title: "when the collector received it" }, formatTime(item.received_at).slice(11)),
    el("td", {}, "/" + item.endpoint),
    el("td", { class: "muted" }, props.mp_lib ?? ""),
  );
  tr.addEventListener("click", () => select(item, tr));
  if (item.seq === state.selected) tr.classList.add("selected");
  return tr;
}

// Property values as a person reads them: times with their date, objects as JSON.
function readable(name, value) {
  if (typeof value === "number" && /(^|_|\$)time$|_at$|^\$?(first|last)_seen$/i.test(name) && value > 1e8) {
    return `${formatTime(value)}  (${value})`;
  }
  return display(value);
}

function propertyTable(properties) {
  return el("table", { class: "props", id: "event-property-table" },
    ...Object.keys(properties).sort().map((name) =>
      el("tr", { "data-property": name }, el("th", {}, name), el("td", { class: "mono" }, readable(name, properties[name])))));
}

function select(item, tr) {
  document.querySelectorAll("#events tr.selected").forEach((node) => node.classList.remove("selected"));
  tr.classList.add("selected");
  state.selected = item.seq;
  const raw = el("details", {}, el("summary", {}, "JSON"), el("pre", { id: "event-properties" }, JSON.stringify(item.properties, null, 2)));
  const reasons = item.plan && !item.plan.ok
    ? el("ul", { id: "plan-reasons" }, ...item.plan.reasons.map((reason) => el("li", {}, reason)))
    : "";
  $("#event-detail").replaceChildren(el("h2", {}, "Properties"), el("h3", {}, item.event), reasons, propertyTable(item.properties), raw);
}

function shownEvents() {
  return state.events.filter(matches).sort((a, b) => eventMs(b) - eventMs(a) || b.seq - a.seq);
}

function renderEvents() {
  const shown = shownEvents();
  const columns = chosenColumns();
  $("#events thead tr").replaceChildren(
    el("th", {}, "Time"), el("th", {}, "Event"), el("th", {}, "distinct_id"),
    ...columns.map((c) => el("th", { class: "prop" }, c)),
    el("th", {}, "Arrived"), el("th", {}, "Endpoint"), el("th", {}, "Library"));
  $("#events tbody").replaceChildren(...shown.slice(0, SHOWN_ROWS).map(row));
  const latest = state.stored > state.events.length ? ` (the latest ${state.events.length} of ${state.stored})` : "";
  $("#shown").textContent = state.events.length ? `${shown.length} of ${state.events.length} shown${latest}` : "";
  const empty = $("#empty");
  empty.hidden = state.events.length > 0;
  if (!state.loaded) empty.replaceChildren("Loading events…");
  else if (state.stored > state.events.length && !state.events.length) empty.replaceChildren(`Loading ${state.stored} events…`);
  else empty.replaceChildren("Waiting for events… send them to ", el("code", { id: "ingest-url" }, `${location.origin}/track`));
  renderChart(shown);
  state.seenSeq = Math.max(state.seenSeq, ...state.events.map((e) => e.seq), 0);
}

function applyFilters() {
  renderEvents();
}

function addEvents(items) {
  if (!items.length) return;
  state.events.push(...items);
  if (state.events.length > MAX_ROWS) state.events.splice(0, state.events.length - MAX_ROWS);
  renderEvents();
}

function clearEvents() {
  state.after = 0;
  state.events = [];
  renderEvents();
}

// NDJSON of what is shown (the filters applied), made in the page: nothing is sent anywhere.
function exportShown() {
  const lines = shownEvents().map((item) => JSON.stringify({ event: item.event, properties: item.properties }));
  const blob = new Blob(lines.map((line) => line + "\n"), { type: "application/x-ndjson" });
  const link = el("a", { href: URL.createObjectURL(blob), download: "mixtrack-events.ndjson", id: "export-link" });
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}

// One person: the ids merged into their identity, and their events in time order.
async function showPerson(distinctId) {
  const card = $("#person");
  card.hidden = false;
  card.replaceChildren(el("h2", {}, "Person"), el("p", { class: "muted" }, `Loading ${distinctId}…`));
  const id = encodeURIComponent(distinctId);
  const [identity, page] = await Promise.all([
    getJSON(`/_mixtrack/identity?distinct_id=${id}`),
    getJSON(`/_mixtrack/events?distinct_id=${id}&identity=1&meta=1&limit=1000`),
  ]);
  const events = page.events.slice().sort((a, b) => eventMs(a) - eventMs(b) || a.seq - b.seq);
  const close = el("button", { class: "link close", id: "person-close" }, "close");
  close.addEventListener("click", () => { card.hidden = true; });
  card.replaceChildren(
    el("h2", {}, "Person ", close),
    el("h3", { id: "person-id" }, distinctId),
    el("p", { class: "muted" }, "merged ids: ", ...identity.cluster.map((i) => el("code", { class: "merged-id" }, i, " "))),
    el("ol", { id: "person-events", class: "timeline" },
      ...events.map((e) => el("li", { "data-event": e.event },
        el("span", { class: "mono muted" }, formatTime(e.properties.time ?? e.received_at)), " ",
        el("strong", {}, e.event), " ", el("span", { class: "muted mono" }, e.properties.distinct_id ?? "")))),
  );
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
      // read everything there is (a page at a time), then draw once
      const fresh = [];
      // a large store: start with the latest MAX_ROWS events rather than walk from the first
      let skip = state.loaded ? 0 : Math.max(0, state.stored - MAX_ROWS);
      for (;;) {
        const page = await getJSON(`/_mixtrack/events?meta=1&limit=1000&after=${state.after}&offset=${skip}`);
        skip = 0;
        state.after = page.after;
        fresh.push(...page.events);
        if (page.count < 1000 || fresh.length >= MAX_ROWS) break;
      }
      const first = !state.loaded;
      state.loaded = true;
      if (fresh.length) addEvents(fresh);
      else if (first) renderEvents();
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
for (const id of ["#filter-event", "#filter-distinct-id", "#filter-prop", "#columns"]) $(id).addEventListener("input", applyFilters);
$("#export").addEventListener("click", exportShown);
$("#pause").addEventListener("click", () => {
  state.paused = !state.paused;
  $("#pause").textContent = state.paused ? "Resume" : "Pause";
});
// The readout of the chosen experiment: the server renders the charts (escaped HTML with
// inline SVG), the same ones `mixtrack audit --html` writes.
async function refreshReadout(event) {
  if (event) event.preventDefault();
  const experiment = $("#readout-experiment").value.trim();
  const metric = $("#readout-metric").value.trim();
  if (!experiment || !metric) return;
  const answer = await getJSON(`/_mixtrack/audit?${new URLSearchParams({ experiment, metric, format: "html" })}`);
  $("#readout-chart").innerHTML = answer.html || `<p class="muted">${answer.error || ""}</p>`;
}
$("#readout-form").addEventListener("submit", refreshReadout);
$("#audit").addEventListener("click", (event) => {
  const name = event.target.dataset && event.target.dataset.experiment;
  if (name) $("#readout-experiment").value = name;
});
renderEvents();
poll();
