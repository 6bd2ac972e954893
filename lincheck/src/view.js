"use strict";
// The data is the text of an element, escaped like all text of the page.
const DATA = JSON.parse(document.getElementById("lincheck-data").textContent);
const $ = (id) => document.getElementById(id);
const ROW_LANE = 24, LEFT = 10, MIN_TICK_PX = 26;

function text(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }

function summary() {
  const illegal = DATA.parts.filter((p) => p.verdict === "Illegal").length;
  const unknown = DATA.parts.filter((p) => p.verdict === "Unknown").length;
  $("summary").innerHTML = `<span class="verdict ${DATA.verdict}">${DATA.verdict}</span> &nbsp; ` +
    `${DATA.ops.length} operations, ${DATA.clients.length} clients, ${DATA.parts.length} part(s)` +
    (illegal ? `, ${illegal} illegal` : "") + (unknown ? `, ${unknown} unknown` : "");
}

function partLabel(p, i) {
  const first = DATA.ops[p.ops[0]];
  return `#${i + 1}: ${p.verdict}, ${p.ops.length} ops` + (first ? ` (first: ${first.text})` : "");
}

function fillParts() {
  const sel = $("part");
  DATA.parts.forEach((p, i) => sel.add(new Option(partLabel(p, i), i)));
  const bad = DATA.parts.findIndex((p) => p.verdict === "Illegal");
  sel.value = String(bad >= 0 ? bad : 0);
}

function fillLins() {
  const part = DATA.parts[+$("part").value];
  const sel = $("lin");
  sel.innerHTML = "";
  part.linearizations.forEach((l, i) => {
    const label = part.verdict === "Ok" ? "complete linearization"
      : `longest partial #${i + 1} (${l.steps.length} of ${part.ops.length})`;
    sel.add(new Option(label, i));
  });
  if (!part.linearizations.length) sel.add(new Option("none (search did not finish)", -1));
}

// What each operation is in the current selection: {step, state} or {blocked, state}.
function roles() {
  const part = DATA.parts[+$("part").value];
  const lin = part && part.linearizations[+$("lin").value];
  const role = new Map();
  if (!lin) return { part, lin, role };
  lin.steps.forEach(([op, state], k) => role.set(op, { step: k + 1, state }));
  const last = lin.steps.length ? lin.steps[lin.steps.length - 1][1] : "the initial state";
  lin.blocked.forEach((op) => role.set(op, { blocked: true, state: last }));
  return { part, lin, role };
}

function render() {
  const { part, lin, role } = roles();
  const inPart = new Set(part ? part.ops : []);
  const only = $("only").checked;
  const shown = DATA.ops.map((o, i) => i).filter((i) => !only || inPart.has(i));
  const wrapWidth = $("wrap").clientWidth || 1200;
  const px = Math.max(MIN_TICK_PX, Math.floor((wrapWidth - LEFT - 20) / (DATA.ticks + 1)));
  const end = DATA.ticks;
  // Lanes per client so that overlapping operations of one client do not hide each other.
  const lanesOf = new Map();
  const placed = [];
  for (const i of shown.sort((a, b) => DATA.ops[a].call - DATA.ops[b].call)) {
    const o = DATA.ops[i];
    const lanes = lanesOf.get(o.client) || [];
    let lane = lanes.findIndex((last) => last < o.call);
    if (lane < 0) { lane = lanes.length; lanes.push(0); }
    lanes[lane] = o.ret === null ? Infinity : o.ret;
    lanesOf.set(o.client, lanes);
    placed.push([i, lane]);
  }
  const tl = $("timeline"), labels = $("labels");
  tl.innerHTML = "";
  labels.innerHTML = "";
  let y = 4;
  const rowTop = new Map();
  for (const c of DATA.clients) {
    const lanes = lanesOf.get(c);
    if (!lanes) continue;
    rowTop.set(c, y);
    const row = document.createElement("div");
    row.className = "row";
    row.style.top = y + "px";
    row.style.width = LEFT + (end + 1) * px + "px";
    row.style.height = lanes.length * ROW_LANE + "px";
    tl.appendChild(row);
    const label = document.createElement("div");
    label.className = "label";
    label.style.top = y + 4 + "px";
    label.textContent = `client ${c}`;
    labels.appendChild(label);
    y += lanes.length * ROW_LANE + 4;
  }
  tl.style.height = labels.style.height = y + "px";
  tl.style.width = LEFT + (end + 1) * px + "px";
  for (const [i, lane] of placed) {
    const o = DATA.ops[i];
    const r = role.get(i);
    const box = document.createElement("div");
    box.id = "box-" + i;
    box.dataset.op = i;
    let cls = "op";
    if (!inPart.has(i)) cls += " faded";
    else if (r && r.blocked) cls += " blocked";
    else if (r) cls += " lin";
    if (o.ret === null) cls += " pending";
    box.className = cls;
    const stop = o.ret === null ? end + 1 : o.ret;
    box.style.left = LEFT + o.call * px + "px";
    box.style.width = Math.max(px * 0.6, (stop - o.call) * px + px * 0.6) + "px";
    box.style.top = rowTop.get(o.client) + lane * ROW_LANE + 2 + "px";
    const badge = r ? `<span class="n">${r.blocked ? "\u2717" : r.step}</span>` : "";
    box.innerHTML = badge + text(o.text);
    box.addEventListener("mouseenter", (e) => tip(e, i));
    box.addEventListener("mousemove", move);
    box.addEventListener("mouseleave", () => { $("tooltip").style.display = "none"; hot(i, false); });
    tl.appendChild(box);
  }
  table(part, lin, role);
  problem(part, lin, role);
}

// Where the selected partial linearization gets stuck, in one sentence.
function problem(part, lin, role) {
  const box = $("problem");
  if (!part || part.verdict !== "Illegal" || !lin) { box.innerHTML = ""; return; }
  const state = lin.steps.length ? lin.steps[lin.steps.length - 1][1] : "the initial state";
  const ops = lin.blocked.map((op) =>
    `<a href="#op-${op}">client ${DATA.ops[op].client}: ${text(DATA.ops[op].text)}</a>`).join("; ");
  box.innerHTML = `Stuck after ${lin.steps.length} of ${part.ops.length} operations, in state ` +
    `<b>${text(state)}</b>. ` + (ops ? `Could come next but cannot be linearized: ${ops}.`
      : "No operation may come next in real time.");
}

function tip(e, i) {
  const o = DATA.ops[i];
  const r = roles().role.get(i);
  let html = `<div>${text(o.text)}</div><div>client ${o.client}, called at ${o.call_time}, ` +
    (o.ret_time === null ? "never returned (pending)" : `returned at ${o.ret_time}`) + "</div>";
  if (r && r.blocked) html += `<div class="bad">could not be linearized next: illegal in state ${text(r.state)}</div>`;
  else if (r) html += `<div>step ${r.step}; state after: <b>${text(r.state)}</b></div>`;
  else html += `<div>not in this linearization</div>`;
  $("tooltip").innerHTML = html;
  $("tooltip").style.display = "block";
  move(e);
  hot(i, true);
}

function move(e) {
  const t = $("tooltip");
  t.style.left = Math.min(e.clientX + 14, window.innerWidth - 470) + "px";
  t.style.top = e.clientY + 16 + "px";
}

function hot(i, on) {
  for (const el of document.querySelectorAll(`[data-op="${i}"]`)) el.classList.toggle("hot", on);
}

function table(part, lin, role) {
  const t = $("steps");
  if (!lin) { $("steps-title").textContent = "No linearization to show"; t.innerHTML = ""; return; }
  $("steps-title").textContent = part.verdict === "Ok"
    ? `A linearization of all ${lin.steps.length} operations`
    : `Longest partial linearization: ${lin.steps.length} of ${part.ops.length} operations, then none of the operations that may come next is legal`;
  let rows = "<tr><th>step</th><th>client</th><th>operation</th><th>state after</th></tr>";
  lin.steps.forEach(([op, state], k) => {
    rows += `<tr data-op="${op}"><td>${k + 1}</td><td>${DATA.ops[op].client}</td><td>${text(DATA.ops[op].text)}</td><td class="state">${text(state)}</td></tr>`;
  });
  for (const op of lin.blocked) {
    rows += `<tr class="blocked" data-op="${op}"><td>\u2717</td><td>${DATA.ops[op].client}</td><td>${text(DATA.ops[op].text)}</td><td>illegal in state <span class="state">${text(role.get(op).state)}</span></td></tr>`;
  }
  t.innerHTML = rows;
  for (const tr of t.querySelectorAll("tr[data-op]")) {
    const i = +tr.dataset.op;
    tr.addEventListener("mouseenter", () => hot(i, true));
    tr.addEventListener("mouseleave", () => hot(i, false));
  }
}

// The first operation that could not be linearized next, selecting its part.
function firstProblem() {
  const bad = DATA.parts.findIndex((p) => p.verdict === "Illegal");
  if (bad < 0) return null;
  if (+$("part").value !== bad) { $("part").value = String(bad); fillLins(); render(); }
  const lin = DATA.parts[bad].linearizations[+$("lin").value];
  return lin && lin.blocked.length ? lin.blocked[0] : null;
}

// Brings operation i into view and makes it flash; with `pin`, shows its details.
function show(i, pin) {
  const part = DATA.ops[i] && DATA.ops[i].part;
  if (part === undefined) return;
  if (+$("part").value !== part) { $("part").value = String(part); fillLins(); render(); }
  const box = $("box-" + i);
  if (!box) return;
  const wrap = $("wrap");
  wrap.scrollLeft = box.offsetLeft - wrap.clientWidth / 2;
  box.scrollIntoView({ block: "nearest" });
  box.classList.remove("flash");
  void box.offsetWidth;
  box.classList.add("flash");
  if (pin) {
    const r = box.getBoundingClientRect();
    tip({ clientX: r.left, clientY: r.bottom }, i);
  }
}

function jump(e) {
  e.preventDefault();
  const first = firstProblem();
  if (first !== null) show(first, true);
}

// A link #op-N selects, shows and pins operation N.
function follow() {
  const m = /^#op-(\d+)$/.exec(location.hash);
  if (m) show(+m[1], true);
}

summary();
fillParts();
fillLins();
render();
$("part").addEventListener("change", () => { fillLins(); render(); });
$("lin").addEventListener("change", render);
$("only").addEventListener("change", render);
$("jump").addEventListener("click", jump);
if (!DATA.parts.some((p) => p.verdict === "Illegal")) $("jump").style.display = "none";
window.addEventListener("resize", render);
window.addEventListener("hashchange", follow);
if (location.hash) follow();
else {
  // Open on the problem: scroll the time line to the first operation that could not go next.
  const first = firstProblem();
  if (first !== null) show(first, false);
}
