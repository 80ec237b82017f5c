// The verifier app: screens, trust data upkeep, and showing a check's result.
import { applyTranslations, formatTime, getLanguage, setLanguage, t } from "./i18n.js";
import { checkText } from "./verify.js";
import * as trustStore from "./trust.js";

const $ = (id) => document.getElementById(id);
const DEFAULTS = { refresh_seconds: 3 * 3600, grace_seconds: 48 * 3600, clock_tolerance_seconds: 300 };

const state = {
  config: { ...DEFAULTS },
  raw: trustStore.stored(),
  trust: null,
  lastAttempt: 0,
  refreshing: null,
  refreshFailed: false,
};

// ---- screens ------------------------------------------------------------------------------

const SCREENS = ["check", "scan", "result", "door"];
const screenHooks = {};

/** Show one screen; a module may hook its own enter/leave (scan, door). */
export function show(name) {
  for (const screen of SCREENS) {
    const el = $(`screen-${screen}`);
    if (screen !== name && !el.hidden && screenHooks[screen]?.leave) screenHooks[screen].leave();
    el.hidden = screen !== name;
  }
  document.body.dataset.screen = name;
  screenHooks[name]?.enter?.();
}

export function onScreen(name, hooks) {
  screenHooks[name] = hooks;
}

// ---- trust data and clock -----------------------------------------------------------------

const toleranceMs = () => state.config.clock_tolerance_seconds * 1000;

/** How far the device clock is off the server's (ms), when it is off beyond the tolerance. */
function clockError() {
  const raw = state.raw;
  if (!raw) return 0;
  if (Math.abs(raw.clockOffsetMs || 0) > toleranceMs()) return raw.clockOffsetMs;
  // A clock set back after the refresh: the device's now is before the refresh it recorded.
  if (Date.now() < raw.refreshedAt - toleranceMs()) return raw.refreshedAt - Date.now();
  return 0;
}

/** The time checks use, epoch seconds: the server's time when the device clock is wrong. */
export function trustedNow() {
  return Math.floor((Date.now() + clockError()) / 1000);
}

function isStale() {
  return !state.raw || trustedNow() * 1000 - state.raw.refreshedAt > state.config.grace_seconds * 1000;
}

export function renderTrust() {
  const line = $("trust-refreshed");
  line.classList.toggle("stale", Boolean(state.raw) && isStale());
  if (!state.raw) {
    line.textContent = t("trust_none");
  } else {
    let text = t("trust_refreshed", { time: formatTime(Math.floor(state.raw.refreshedAt / 1000)) });
    if (isStale()) text += ` ${t("trust_stale", { hours: Math.round(state.config.grace_seconds / 3600) })}`;
    if (state.refreshFailed) text += ` ${t("refresh_failed")}`;
    line.textContent = text;
  }
  line.dataset.refreshedAt = state.raw ? String(state.raw.refreshedAt) : "";
  const button = $("refresh-button");
  button.textContent = t(state.refreshing ? "refreshing" : "refresh_now");
  button.disabled = Boolean(state.refreshing);
  const offBy = clockError();
  const clock = $("clock-banner");
  clock.hidden = offBy === 0;
  clock.textContent = offBy ? t("clock_wrong", { minutes: Math.round(Math.abs(offBy) / 60000) }) : "";
  $("offline-banner").hidden = navigator.onLine;
}

async function useRaw(raw) {
  state.raw = raw;
  state.trust = await trustStore.decode(raw);
}

/** Refresh trust data now; a failure leaves everything (and the refresh time) as it was. */
export function refreshTrust() {
  if (state.refreshing) return state.refreshing;
  state.lastAttempt = Date.now();
  state.refreshing = (async () => {
    try {
      await useRaw(await trustStore.refresh());
      state.refreshFailed = false;
      return true;
    } catch {
      state.refreshFailed = true;
      return false;
    } finally {
      state.refreshing = null;
      renderTrust();
    }
  })();
  renderTrust();
  return state.refreshing;
}

function refreshIfDue() {
  if (!navigator.onLine) return;
  const due = !state.raw || Date.now() - state.lastAttempt >= state.config.refresh_seconds * 1000;
  if (due) refreshTrust();
}

// ---- results ------------------------------------------------------------------------------

function statusText(result) {
  if (result.status === "valid" && result.asOf) return t("status_valid_as_of", { time: formatTime(result.asOf) });
  if (result.status === "valid" && result.unchecked) return t("status_valid_unchecked");
  return t(`status_${result.status}`);
}

function tone(result) {
  if (result.status !== "valid") return "red";
  return result.asOf || result.unchecked ? "amber" : "green";
}

let lastResult = null;

/** Show a result ({status, claims?, checks, number?, municipality?}) on the result screen. */
export function showResult(result) {
  lastResult = result;
  const panel = $("result-panel");
  panel.dataset.tone = tone(result);
  panel.dataset.status = result.status;
  const heading = $("result-status");
  heading.textContent = statusText(result);
  heading.dataset.status = result.status;
  const fields = $("result-fields");
  fields.replaceChildren();
  const add = (key, value) => {
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.field = key;
    fields.append(dt, dd);
  };
  const c = result.claims;
  if (c) {
    const place = state.trust?.names.get(c.issuer) || result.municipality;
    const placeName = place ? (getLanguage() === "en" && place.name_en) || place.name : c.issuer;
    add("field_holder", c.holder);
    add("field_kind", t(`kind_${c.kind}`));
    add("field_municipality", placeName);
    add("field_issued", formatTime(c.issuedAt, false));
    add("field_expires", formatTime(c.expiresAt, false));
    if (result.number) add("field_number", result.number);
  }
  const checks = $("result-checks");
  checks.replaceChildren();
  for (const [name, outcome] of Object.entries(result.checks)) {
    const li = document.createElement("li");
    li.dataset.check = name;
    li.dataset.outcome = outcome;
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = outcome === "ok" ? "✓" : outcome === "fail" ? "✗" : "–";
    li.append(mark, `${t(`check_${name}`)}: ${t(`mark_${outcome}`)}`);
    checks.append(li);
  }
  show("result");
  heading.focus();
}

/** Check pasted or scanned text in the browser and show the answer. */
export async function checkAndShow(text) {
  if (!state.raw && !(await refreshTrust())) {
    // Without keys every certificate would read "unknown key": say what is missing instead.
    show("check");
    $("paste-error").textContent = t("trust_none");
    return null;
  }
  $("paste-error").textContent = "";
  if (!state.trust) await useRaw(state.raw);
  let result = await checkText(text, state.trust, trustedNow());
  if (result.status === "unknown_key" && navigator.onLine) {
    // A key made after our last refresh: fetch the keys once and look again.
    if (await refreshTrust()) result = await checkText(text, state.trust, trustedNow());
  }
  if (result.status === "valid") {
    if (result.checks.revocation === "unchecked") result.unchecked = true;
    else if (isStale()) result.asOf = result.list?.issuedAt ?? Math.floor(state.raw.refreshedAt / 1000);
  }
  showResult(result);
  return result;
}

/** Ask the server about a typed issue number (online only) and show its answer. */
async function lookupNumber(number) {
  const error = $("number-error");
  error.textContent = "";
  if (!navigator.onLine) {
    error.textContent = t("number_offline");
    return;
  }
  let response;
  try {
    response = await fetch("/api/v1/certificates/lookup", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ number }),
    });
  } catch {
    error.textContent = t("number_offline");
    return;
  }
  if (response.status === 404) error.textContent = t("number_not_found");
  else if (response.status === 429) error.textContent = t("rate_limited");
  else if (!response.ok) error.textContent = t("number_invalid");
  if (!response.ok) return;
  const answer = await response.json();
  const seconds = (iso) => Math.floor(Date.parse(iso) / 1000);
  const result = { status: answer.status, number: answer.issue_number, checks: { online: answer.status === "valid" ? "ok" : "fail" } };
  if (answer.holder) {
    result.claims = {
      holder: answer.holder, kind: answer.kind, issuer: answer.municipality.code,
      issuedAt: seconds(answer.issued_at), expiresAt: seconds(answer.expires_at),
    };
    result.municipality = answer.municipality;
  }
  showResult(result);
}

// ---- start --------------------------------------------------------------------------------

async function loadConfig() {
  try {
    const response = await fetch("/verify/config.json", { cache: "no-cache" });
    if (response.ok) state.config = { ...DEFAULTS, ...(await response.json()) };
  } catch {
    // Offline: the service worker's copy or the defaults.
  }
}

function wire() {
  $("language").addEventListener("click", () => {
    setLanguage(getLanguage() === "ko" ? "en" : "ko");
    $("language").lang = getLanguage() === "ko" ? "en" : "ko";
    renderTrust();
    if (lastResult && !$("screen-result").hidden) showResult(lastResult);
  });
  $("refresh-button").addEventListener("click", () => refreshTrust());
  $("paste-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("paste-text").value;
    if (text.trim()) checkAndShow(text);
  });
  $("number-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("number-text").value;
    if (number.trim()) lookupNumber(number);
  });
  $("again-button").addEventListener("click", () => {
    $("paste-text").value = "";
    $("number-text").value = "";
    show("check");
    $("main").focus();
  });
  addEventListener("online", () => {
    renderTrust();
    refreshIfDue();
  });
  addEventListener("offline", renderTrust);
  addEventListener("hashchange", route);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && refreshIfDue());
}

function route() {
  if (location.hash === "#door") show("door");
  else if ($("screen-door").hidden === false) show("check");
}

async function start() {
  setLanguage(getLanguage());
  $("language").lang = getLanguage() === "ko" ? "en" : "ko";
  applyTranslations();
  wire();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/verify/sw.js", { scope: "/verify/" }).catch(() => {});
  await loadConfig();
  if (state.raw) await useRaw(state.raw);
  renderTrust();
  refreshIfDue();
  setInterval(() => {
    renderTrust();
    refreshIfDue();
  }, 30000);
  await Promise.all([import("./scan.js"), import("./door.js")].map((p) => p.then((m) => m.init?.()).catch(() => {})));
  route();
  document.body.dataset.ready = "true";
}

start();
