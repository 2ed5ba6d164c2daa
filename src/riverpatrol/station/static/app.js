// The station dashboard: one patrol at a time on a map drawn from the river's own geometry,
// fed by the live WebSocket (which replays from the store first, so a reload or a reconnect
// never leaves a gap), with charts, findings review and patrol history.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem("rp-lang") || "zh",
  param: "class",
  xAxis: "s",
  standards: null,
  patrol: null,        // patrol detail from the API
  samples: [],
  lastT: null,         // newest patrol time drawn: a reconnect asks for what came after it
  lastMessageAt: 0,
  status: null,
  ws: null,
  layers: {},
};
window.rp = state;  // for people poking at the page from the console

const t = (key) => (TEXT[state.lang] && TEXT[state.lang][key]) || key;
const api = async (path, options) => {
  const reply = await fetch(path, options);
  if (!reply.ok) {
    let detail = await reply.text();
    try { detail = JSON.parse(detail).detail; } catch (e) { /* plain text */ }
    throw new Error(typeof detail === "string" ? detail : (detail.problems || [JSON.stringify(detail)]).join("\n"));
  }
  return reply.json();
};
const fmt = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toFixed(digits));
const className = (c) => state.standards ? state.standards[state.lang === "zh" ? "class_names_zh" : "class_names_en"][c] : c;

// ---- map -------------------------------------------------------------------------------------
const map = L.map("map", { preferCanvas: true, zoomSnap: 0.25 });
map.setView([0, 0], 2);
const layers = {
  river: L.layerGroup().addTo(map), ticks: L.layerGroup().addTo(map), route: L.layerGroup().addTo(map),
  track: L.polyline([], { color: "#14384f", weight: 2 }).addTo(map),
  samples: L.layerGroup().addTo(map), obstacles: L.layerGroup().addTo(map), findings: L.layerGroup().addTo(map),
  anomalies: L.layerGroup().addTo(map),
};
state.layers = layers;
const boatIcon = (heading) => L.divIcon({
  className: "boat-icon", iconSize: [24, 24], iconAnchor: [12, 12],
  html: `<svg width="24" height="24" viewBox="-12 -12 24 24" style="transform: rotate(${heading || 0}deg)">
         <path d="M0,-11 L7,9 L0,5 L-7,9 Z" fill="#ff6f00" stroke="#fff" stroke-width="1.5"/></svg>`,
});
const boat = L.marker([0, 0], { icon: boatIcon(0), zIndexOffset: 1000 });

async function drawRiver(patrolId) {
  const river = await api(`/api/patrols/${patrolId}/river`);
  for (const name of ["river", "ticks", "route"]) layers[name].clearLayers();
  const ll = (c) => [c[1], c[0]];
  state.fitTrack = !river.left_bank.length;  // a boat attached without a river map: frame its track
  if (state.fitTrack) return;
  const water = river.left_bank.map(ll).concat(river.right_bank.slice().reverse().map(ll));
  const polygon = L.polygon(water, { color: "#4a7a99", weight: 1.5, fillColor: "#cfe3f1", fillOpacity: 0.8 });
  layers.river.addLayer(polygon);
  for (const tick of river.ticks) {
    const line = L.polyline(tick.line.map(ll), { color: "#5b7083", weight: 1 });
    line.bindTooltip(`${tick.s} m`, { permanent: true, direction: "right", className: "tick-label" });
    layers.ticks.addLayer(line);
  }
  if (river.route) {
    layers.route.addLayer(L.polyline(river.route.map(ll), { color: "#7b1fa2", weight: 1.5, dashArray: "5 5" }));
  }
  map.fitBounds(polygon.getBounds(), { padding: [20, 20] });
}

function sampleColour(sample) {
  const colours = state.standards.class_colours;
  if (state.param === "class") return colours[sample.class];
  const cls = sample.classes && sample.classes[state.param];
  if (cls !== undefined) return colours[cls];
  const value = sample.values[state.param];
  if (value === undefined) return "#9e9e9e";
  const [lo, hi] = state.range[state.param] || [value, value];
  const f = hi > lo ? Math.min(1, Math.max(0, (value - lo) / (hi - lo))) : 0.5;
  return `hsl(${240 - 240 * f}, 80%, 45%)`;  // blue (low) to red (high)
}

function drawSamples(rows) {
  for (const s of rows) {
    if (s.lon === null) continue;
    const marker = L.circleMarker([s.lat, s.lon], { radius: 3, stroke: false, fillOpacity: 0.9, fillColor: sampleColour(s) });
    marker.sample = s;
    layers.samples.addLayer(marker);
  }
}

function recolour() {
  layers.samples.eachLayer((m) => m.setStyle({ fillColor: sampleColour(m.sample) }));
  drawLegend();
  updateChart(true);
}

function drawLegend() {
  const legend = $("legend");
  if (state.param === "class" || (state.standards.limits[state.param])) {
    legend.innerHTML = state.standards.class_colours.map((c, k) => (k === 0 ? "" :
      `<div><i style="background:${c}"></i>${className(k)}</div>`)).join("");
  } else {
    const [lo, hi] = state.range[state.param] || [0, 0];
    legend.innerHTML = `<div><i style="background:hsl(240,80%,45%)"></i>${fmt(lo)}</div>
      <div><i style="background:hsl(0,80%,45%)"></i>${fmt(hi)} ${state.standards.units[state.param]}</div>`;
  }
}

// ---- chart -----------------------------------------------------------------------------------
const chart = new Chart($("chart"), {
  type: "scatter",
  data: { datasets: [{ data: [], pointRadius: 2, pointBackgroundColor: [] }] },
  options: {
    animation: false, maintainAspectRatio: false,
    plugins: { legend: { display: false } },
    scales: { x: { title: { display: true } }, y: { title: { display: true } } },
  },
});
let chartDirty = false;
function updateChart(force) {
  chartDirty = chartDirty || force;
}
function drawChart() {
  if (!chartDirty || !state.standards) return;
  chartDirty = false;
  const param = state.param === "class" ? "nh3n" : state.param;
  const rows = state.samples.filter((s) => s.values[param] !== undefined && (state.xAxis === "t" || s.s !== null));
  const dataset = chart.data.datasets[0];
  dataset.data = rows.map((s) => ({ x: state.xAxis === "t" ? s.t : s.s, y: s.values[param] }));
  dataset.pointBackgroundColor = rows.map(sampleColour);
  chart.options.scales.x.title.text = state.xAxis === "t" ? `${t("time")} (s)` : `${t("chainage")} (m)`;
  chart.options.scales.y.title.text = `${param} (${state.standards.units[param]})`;
  chart.update("none");
}
setInterval(drawChart, 500);  // live batches come many times a second: redraw at most twice

// ---- live feed -------------------------------------------------------------------------------
function connect(patrolId) {
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  const after = state.lastT === null ? "" : `?after_t=${state.lastT}`;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/patrols/${patrolId}/live${after}`);
  state.ws = ws;
  ws.onmessage = (event) => {
    if (state.patrol === null || state.patrol.id !== patrolId) return;
    const message = JSON.parse(event.data);
    state.lastMessageAt = Date.now();
    if (message.type === "batch") applyBatch(message);
    if (message.status) setStatus(message.status);
  };
  ws.onclose = () => {  // the server restarted or we fell behind: catch up from where we were
    if (state.patrol && state.patrol.id === patrolId) setTimeout(() => connect(patrolId), 1000);
  };
}

function applyBatch(message) {
  const positions = message.positions;
  if (positions.length) {
    for (const p of positions) if (p[1] !== null) layers.track.addLatLng([p[2], p[1]]);
    const last = positions[positions.length - 1];
    if (state.fitTrack && layers.track.getLatLngs().length) {
      map.fitBounds(layers.track.getBounds(), { padding: [40, 40], maxZoom: 18 });
      state.fitTrack = false;
    }
    if (last[1] !== null) {
      boat.setLatLng([last[2], last[1]]).setIcon(boatIcon(last[5]));
      if (!map.hasLayer(boat)) boat.addTo(map);
      $("live-position").textContent = `${last[1].toFixed(6)}, ${last[2].toFixed(6)}`;
    }
    $("live-time").textContent = `${last[0].toFixed(1)} s`;
    $("live-speed").textContent = `${fmt(last[3])} m/s`;
    $("live-heading").textContent = `${fmt(last[5], 0)}°`;
    const endurance = state.patrol.meta.boat && state.patrol.meta.boat.endurance_s;
    if (endurance) $("live-endurance").textContent = `${fmt((endurance - last[0]) / 60, 1)} min`;
  }
  if (message.samples.length) {
    for (const s of message.samples) {
      for (const [k, v] of Object.entries(s.values)) {
        const r = state.range[k] || [v, v];
        state.range[k] = [Math.min(r[0], v), Math.max(r[1], v)];
      }
    }
    state.samples.push(...message.samples);
    drawSamples(message.samples);
    showSonde(message.samples[message.samples.length - 1]);
    updateChart(true);
  }
  if (message.anomalies && message.anomalies.length) drawAnomalies(message.anomalies);
  if (message.mode) $("live-mode").textContent = message.mode;
  for (const e of message.events) if (e.kind === "mode") $("live-mode").textContent = e.detail.mode;
  if (message.obstacles) {
    layers.obstacles.clearLayers();
    for (const o of message.obstacles) {
      layers.obstacles.addLayer(L.circleMarker([o[1], o[0]], { radius: 2, color: "#d32f2f", stroke: false, fillOpacity: 1 }));
    }
  }
  const times = [positions.length ? positions[positions.length - 1][0] : null,
    message.samples.length ? message.samples[message.samples.length - 1].t : null,
    message.events.length ? message.events[message.events.length - 1].t : null, message.t].filter((x) => x !== null);
  if (times.length) state.lastT = Math.max(state.lastT === null ? -Infinity : state.lastT, ...times);
}

function drawAnomalies(rows) {  // live signals: where the water began to look polluted
  const body = $("anomaly-table").querySelector("tbody");
  for (const a of rows) {
    const text = `${fmt(a.s, 0)} m ${t(a.bank)} · ${t("score")} ${fmt(a.score, 1)} · ${strongest(a.z)}`;
    L.marker([a.lat, a.lon], { icon: L.divIcon({ className: "anomaly-icon", html: "!", iconSize: [18, 18] }) })
      .bindPopup(text).addTo(layers.anomalies);
    const row = document.createElement("tr");
    row.innerHTML = `<td>${fmt(a.t, 0)} s</td><td>${fmt(a.s, 0)} m</td><td>${t(a.bank)}</td><td>${fmt(a.score, 1)}</td><td>${strongest(a.z)}</td>`;
    row.onclick = () => map.panTo([a.lat, a.lon]);
    body.appendChild(row);
  }
}

function strongest(z) {
  return Object.entries(z).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([name, v]) => `${name} +${fmt(v, 1)}σ`).join(", ");
}

function showSonde(sample) {
  const units = state.standards.units;
  $("sonde-table").innerHTML = state.standards.parameters.filter((p) => sample.values[p] !== undefined).map((p) => {
    const cls = sample.classes && sample.classes[p];
    const badge = cls ? `<span style="color:${state.standards.class_colours[cls]}">${className(cls)}</span>` : "";
    return `<tr><th>${p}</th><td class="value" data-param="${p}">${fmt(sample.values[p], 3)}</td><td>${units[p]}</td><td>${badge}</td></tr>`;
  }).join("");
}

setInterval(() => {  // link health: how long since the station last heard from this patrol
  if (!state.patrol) return;
  const live = ["running", "paused", "returning"].includes(state.status);
  const age = (Date.now() - state.lastMessageAt) / 1000;
  const cell = $("live-link");
  if (!live) { cell.textContent = "–"; return; }
  cell.textContent = `${age < 3 ? t("link_ok") : t("link_stale")} (${age.toFixed(1)} s)`;
  cell.style.color = age < 3 ? "#2e7d32" : "#c62828";
}, 500);

// ---- patrol status, commands, video ------------------------------------------------------------
function setStatus(status) {
  const was = state.status;
  state.status = status;
  const badge = $("patrol-status");
  badge.textContent = t(status);
  badge.className = `badge ${status}`;
  $("btn-pause").disabled = status !== "running";
  $("btn-resume").disabled = status !== "paused";
  $("btn-abort").disabled = !["running", "paused"].includes(status);
  const live = ["running", "paused", "returning"].includes(status);
  $("btn-detach").disabled = !(live && state.patrol && state.patrol.source === "mavlink");
  if (live !== ["running", "paused", "returning"].includes(was)) showVideo(live);
  if (was && was !== status && !live) { loadFindings(); loadHistory(); }
}

async function command(name) {
  try {
    const reply = await api(`/api/patrols/${state.patrol.id}/command`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ command: name }),
    });
    setStatus(reply.status);
  } catch (err) { alert(err.message); }
}

let peer = null;
function showVideo(live) {
  live = live && state.patrol.source === "twin";  // an attached boat sends no video over MAVLink
  const kind = document.querySelector("input[name=video-kind]:checked").value;
  const img = $("video-mjpeg"), video = $("video-webrtc");
  if (peer) { peer.close(); peer = null; }
  img.removeAttribute("src");
  img.hidden = !(live && kind === "mjpeg");
  video.hidden = !(live && kind === "webrtc");
  $("video-none").hidden = live;
  if (!live) return;
  if (kind === "mjpeg") img.src = `/api/patrols/${state.patrol.id}/video.mjpeg`;
  else startWebRTC(video);
}

async function startWebRTC(video) {
  peer = new RTCPeerConnection({ iceServers: [] });  // offline: host candidates on the LAN only
  peer.addTransceiver("video", { direction: "recvonly" });
  peer.ontrack = (event) => { video.srcObject = event.streams[0] || new MediaStream([event.track]); };
  await peer.setLocalDescription(await peer.createOffer());
  await new Promise((resolve) => {
    if (peer.iceGatheringState === "complete") resolve();
    else peer.onicegatheringstatechange = () => peer.iceGatheringState === "complete" && resolve();
  });
  try {
    const answer = await api(`/api/patrols/${state.patrol.id}/webrtc`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sdp: peer.localDescription.sdp, type: peer.localDescription.type }),
    });
    await peer.setRemoteDescription(answer);
  } catch (err) { $("video-none").hidden = false; $("video-none").textContent = err.message; }
}

// ---- findings ----------------------------------------------------------------------------------
async function loadFindings() {
  if (!state.patrol) return;
  const findings = await api(`/api/patrols/${state.patrol.id}/findings`);
  layers.findings.clearLayers();
  const body = $("findings-table").querySelector("tbody");
  body.innerHTML = "";
  for (const f of findings) {
    const icon = L.divIcon({ className: "finding-icon", html: `${f.rank}`, iconSize: [22, 22] });
    L.marker([f.lat, f.lon], { icon }).bindPopup(`#${f.rank} ${fmt(f.chainage_m, 0)} m ${t(f.bank)} · ${fmt(f.confidence)}`)
      .addTo(layers.findings);
    const row = document.createElement("tr");
    row.dataset.finding = f.id;
    row.innerHTML = `<td>${f.rank}</td><td>${fmt(f.confidence)}</td>
      <td>${fmt(f.chainage_m, 0)} ± ${fmt(f.uncertainty_m, 1)} m</td><td>${t(f.bank)}</td>
      <td>${evidenceText(f.evidence)}<br><img class="evidence" src="/api/findings/${f.id}/evidence.png?lang=${state.lang}" alt="">
        <img class="evidence" src="/api/findings/${f.id}/sonar.png?lang=${state.lang}" alt="" onerror="this.remove()"></td>
      <td><img src="/api/findings/${f.id}/snapshot.jpg" alt="" onerror="this.remove()"></td>
      <td class="status status-${f.status}">${t(f.status)}</td>
      <td><button data-action="confirm">${t("confirm")}</button> <button data-action="dismiss">${t("dismiss")}</button></td>`;
    for (const button of row.querySelectorAll("button")) {
      button.onclick = () => review(f.id, button.dataset.action);
    }
    for (const img of row.querySelectorAll("img")) img.onclick = () => window.open(img.src);
    body.appendChild(row);
  }
}

function evidenceText(evidence) {
  const params = Object.entries(evidence.parameters || {}).sort((a, b) => Math.abs(b[1].z) - Math.abs(a[1].z));
  const words = params.slice(0, 3).map(([name, p]) => `${name} ${p.z > 0 ? "+" : ""}${fmt(p.z, 0)}σ`);
  if (evidence.sonar) words.push(`${t("sonar")} (${evidence.sonar.pings})`);
  if (evidence.camera) words.push(`${t("camera")} (${evidence.camera.frames})`);
  return words.join(", ") || t("none");
}

async function review(findingId, action) {
  const operator = localStorage.getItem("rp-operator") || prompt(t("operator"), "operator") || "operator";
  localStorage.setItem("rp-operator", operator);
  await api(`/api/findings/${findingId}/review`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ action, operator }),
  });
  await loadFindings();
}

// ---- patrols -----------------------------------------------------------------------------------
async function loadHistory() {
  const patrols = await api("/api/patrols");
  const select = $("patrol-select");
  const chosen = state.patrol ? state.patrol.id : null;
  select.innerHTML = patrols.map((p) => `<option value="${p.id}">#${p.id} ${p.name} (${t(p.status)})</option>`).join("");
  if (chosen) select.value = chosen;
  $("history-table").querySelector("tbody").innerHTML = patrols.map((p) => `<tr data-patrol="${p.id}">
    <td>${p.id}</td><td>${p.name}</td><td>${t(p.source)}</td><td>${t(p.status)}</td>
    <td>${p.duration_s ? fmt(p.duration_s / 60, 1) + " min" : "–"}</td><td>${p.counts.samples}</td><td>${p.counts.findings}</td></tr>`).join("");
  for (const row of $("history-table").querySelectorAll("tbody tr")) row.onclick = () => openPatrol(Number(row.dataset.patrol));
  return patrols;
}

async function openPatrol(patrolId) {
  state.patrol = await api(`/api/patrols/${patrolId}`);
  state.samples = []; state.range = {}; state.lastT = null; state.status = null;
  $("patrol-select").value = patrolId;
  layers.track.setLatLngs([]);
  for (const name of ["samples", "obstacles", "findings", "anomalies"]) layers[name].clearLayers();
  $("anomaly-table").querySelector("tbody").innerHTML = "";
  $("btn-report").href = `/api/patrols/${patrolId}/report.pdf`;
  await drawRiver(patrolId);
  setStatus(state.patrol.status);
  showVideo(["running", "paused", "returning"].includes(state.patrol.status));
  connect(patrolId);
  loadFindings();
}

async function startPatrol() {
  $("start-error").textContent = "";
  const speedup = $("speedup").value;
  try {
    let reply;
    const file = $("scenario-file").files[0];
    if (file) {
      const form = new FormData();
      form.append("file", file);
      form.append("speedup", speedup);
      reply = await api("/api/patrols/upload", { method: "POST", body: form });
    } else {
      reply = await api("/api/patrols", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ scenario: $("scenario-select").value, speedup: Number(speedup) }),
      });
    }
    await loadHistory();
    await openPatrol(reply.id);
  } catch (err) { $("start-error").textContent = err.message; }
}

async function attachBoat() {
  $("attach-error").textContent = "";
  const scenario = $("attach-scenario").value;
  const body = { url: $("attach-url").value.trim(), name: $("attach-name").value.trim() || null,
    scenario: scenario || null, start: Boolean(scenario) && $("attach-start").checked };
  $("btn-attach").disabled = true;
  try {
    const reply = await api("/api/patrols/attach", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    await loadHistory();
    await openPatrol(reply.id);
  } catch (err) { $("attach-error").textContent = err.message; }
  $("btn-attach").disabled = false;
}

async function detach() {
  $("btn-detach").disabled = true;
  try {
    const reply = await api(`/api/patrols/${state.patrol.id}/detach`, { method: "POST" });
    setStatus(reply.status);
  } catch (err) { alert(err.message); }
}

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("btn-lang").textContent = state.lang === "zh" ? "English" : "中文";
  const select = $("param-select");
  const chosen = state.param;
  select.innerHTML = `<option value="class">${t("overall_class")}</option>` +
    state.standards.parameters.map((p) => `<option value="${p}">${p} (${state.standards.units[p]})</option>`).join("");
  select.value = chosen;
  drawLegend();
  if (state.status) setStatus(state.status);
  loadFindings();
  loadHistory();
  updateChart(true);
  drawChart();
}

async function main() {
  state.standards = await api("/api/standards");
  state.range = {};
  const config = await api("/api/config");
  if (config.tile_url) L.tileLayer(config.tile_url, { maxZoom: 20, attribution: config.tile_attribution || "" }).addTo(map);
  const shipped = (await api("/api/scenarios")).map((s) => `<option>${s}</option>`).join("");
  $("scenario-select").innerHTML = shipped;
  $("attach-scenario").innerHTML = `<option value="" data-i18n="no_scenario"></option>${shipped}`;
  $("btn-lang").onclick = () => { state.lang = state.lang === "zh" ? "en" : "zh"; localStorage.setItem("rp-lang", state.lang); applyLanguage(); };
  $("param-select").onchange = (e) => { state.param = e.target.value; recolour(); };
  $("patrol-select").onchange = (e) => openPatrol(Number(e.target.value));
  $("btn-pause").onclick = () => command("pause");
  $("btn-resume").onclick = () => command("resume");
  $("btn-abort").onclick = () => command("abort");
  $("btn-start").onclick = startPatrol;
  $("btn-attach").onclick = attachBoat;
  $("btn-detach").onclick = detach;
  for (const radio of document.querySelectorAll("input[name=x-axis]")) radio.onchange = (e) => { state.xAxis = e.target.value; updateChart(true); };
  for (const radio of document.querySelectorAll("input[name=video-kind]")) radio.onchange = () => showVideo(["running", "paused", "returning"].includes(state.status));
  applyLanguage();
  const patrols = await loadHistory();
  const wanted = Number(new URLSearchParams(location.search).get("patrol")) || (patrols[0] && patrols[0].id);
  if (wanted) await openPatrol(wanted);
}

main();
