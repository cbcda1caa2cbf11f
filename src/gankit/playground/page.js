// The playground page: polls the server's state and draws it; the controls post to its API.
// The latest state is kept on window.playgroundState (tests read it).
"use strict";

const $ = (id) => document.getElementById(id);
const SETTINGS = ["dataset", "loss", "penalty", "lr_g", "lr_d", "n_critic"];
const POLL_MS = 100;
const COLORS = { real: "#1e8a3c", fake: "#7b3fb5", arrow: "#333", d: "#d9730d", g: "#2f6fb7" };
const TINT = { fake: [221, 200, 240], real: [196, 236, 204] }; // D's surface at 0 and at 1

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error);
  return data;
}

async function post(path, body) {
  try {
    show(await api(path, body));
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  }
}

function readSettings() {
  const out = {};
  for (const id of SETTINGS) out[id] = $(id).type === "number" ? Number($(id).value) : $(id).value;
  return out;
}

async function setup() {
  const options = await api("/api/options");
  const choices = { dataset: options.datasets, loss: options.losses, penalty: options.penalties };
  for (const [id, names] of Object.entries(choices)) {
    $(id).replaceChildren(...names.map((name) => new Option(name, name)));
  }
  for (const id of ["lr_g", "lr_d"]) [$(id).min, $(id).max] = options.lr;
  [$("n_critic").min, $("n_critic").max] = options.n_critic;
  for (const id of SETTINGS) {
    $(id).value = options.defaults[id];
    $(id).addEventListener("change", () => post("/api/settings", readSettings()));
  }
  for (const action of ["start", "pause", "step", "reset"]) {
    $(action).addEventListener("click", () => post("/api/control", { action }));
  }
  poll();
}

async function poll() {
  try {
    show(await api("/api/state"));
  } catch (e) {
    $("status").textContent = `no answer from the server: ${e.message}`;
  }
  setTimeout(poll, POLL_MS);
}

function show(state) {
  window.playgroundState = state;
  document.body.dataset.step = state.step;
  for (const id of SETTINGS) {
    if (document.activeElement !== $(id)) $(id).value = state.settings[id]; // another tab's change
  }
  const last = state.history.at(-1) || [0, null, null];
  const number = (x) => (x === null ? "NaN" : x.toFixed(3));
  const [low, high] = state.bounds;
  const outside = state.fake.filter((p) => p.some((v) => v < low || v > high)).length;
  $("status").textContent = `step ${state.step} (${state.running ? "running" : "paused"}), ` +
    `D loss ${number(last[1])}, G loss ${number(last[2])}` +
    (outside ? `; ${outside} generated points are outside the view` : "") +
    (state.diverged ? "; diverged: lower the learning rates and reset" : "");
  drawField($("field"), state);
  drawLosses($("losses"), state.history);
}

function drawField(canvas, state) {
  const ctx = canvas.getContext("2d");
  const size = canvas.width;
  const [low, high] = state.bounds;
  const scale = size / (high - low);
  const at = ([x, y]) => [(x - low) * scale, size - (y - low) * scale];
  const cell = size / state.grid;
  state.surface.forEach((v, i) => { // row r of the grid is the r-th y from the bottom
    const rgb = TINT.fake.map((f, c) => Math.round(f + (TINT.real[c] - f) * v));
    ctx.fillStyle = `rgb(${rgb})`;
    const column = i % state.grid, row = Math.floor(i / state.grid);
    ctx.fillRect(column * cell, size - (row + 1) * cell, cell + 1, cell + 1);
  });
  dots(ctx, state.fake.map(at), COLORS.fake);
  const longest = Math.max(1e-12, ...state.arrows.map(([dx, dy]) => Math.hypot(dx, dy)));
  ctx.strokeStyle = COLORS.arrow;
  ctx.lineWidth = 1;
  ctx.beginPath();
  state.fake.forEach((point, i) => { // the longest arrow is 8% of the view
    const [x, y] = at(point);
    const [dx, dy] = state.arrows[i].map((d) => (d / longest) * 0.08 * size);
    ctx.moveTo(x, y);
    ctx.lineTo(x + dx, y - dy);
  });
  ctx.stroke();
  dots(ctx, state.real.map(at), COLORS.real); // on top: the target stays visible under G's points
}

function dots(ctx, points, color) {
  ctx.fillStyle = color;
  for (const [x, y] of points) {
    ctx.beginPath();
    ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawLosses(canvas, history) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const values = history.flatMap(([, d, g]) => [d, g]).filter((v) => v !== null);
  if (history.length < 2 || values.length === 0) return;
  const low = Math.min(...values), high = Math.max(...values);
  const y = (v) => height - 10 - ((v - low) / Math.max(high - low, 1e-9)) * (height - 30);
  const x = (i) => (i / (history.length - 1)) * width;
  for (const [column, color] of [[1, COLORS.d], [2, COLORS.g]]) {
    ctx.strokeStyle = color;
    ctx.beginPath();
    history.forEach((record, i) => {
      if (record[column] !== null) ctx.lineTo(x(i), y(record[column]));
    });
    ctx.stroke();
  }
  ctx.fillStyle = "#555";
  ctx.fillText(`${high.toFixed(3)}`, 4, 12);
  ctx.fillText(`${low.toFixed(3)}`, 4, height - 2);
  ctx.fillText(`steps ${history[0][0]} to ${history.at(-1)[0]}`, width - 130, height - 2);
}

setup();
