// Door check-in of meeting tickets (schedulers and officials): log in, pick today's meeting,
// scan or paste tickets; each scan calls the check-in endpoint, which holds every rule.
import { onScreen, show, trustedNow } from "./app.js";
import { addMessages, applyTranslations, formatTime, t } from "./i18n.js";
import { startScan } from "./scan.js";
import { checkTicketOffline } from "./ticket.js";
import { stored } from "./trust.js";
import { keysByKid } from "./verify.js";

addMessages({
  ko: {
    door_title: "회의 입장 확인",
    door_back: "인증서 확인으로",
    door_login: "담당자 로그인",
    door_email: "이메일",
    door_password: "비밀번호",
    door_login_button: "로그인",
    door_login_failed: "로그인하지 못했습니다. 이메일과 비밀번호를 확인해 주세요.",
    door_logout: "로그아웃",
    door_pick: "오늘 회의 선택",
    door_none: "오늘 열리는 회의가 없습니다.",
    door_scan: "카메라로 티켓 스캔",
    door_ticket: "티켓 내용 입력",
    door_check: "입장 확인",
    door_count: "입장 {in} / 확정 {all}",
    door_expected: "아직 오지 않은 사람 ({n})",
    door_admitted: "입장 완료: {name}",
    door_already: "이미 입장했습니다: {name}",
    door_wrong_meeting: "다른 회의의 티켓입니다.",
    door_not_valid: "유효하지 않은 티켓입니다.",
    door_cancelled: "취소된 신청입니다.",
    door_not_open: "지금은 입장 확인 시간이 아닙니다.",
    door_waitlisted: "대기 중인 신청입니다.",
    door_offline: "오프라인입니다. 연결되면 다시 확인해 주세요.",
    door_other: "확인하지 못했습니다: {message}",
    door_admitted_offline: "입장 완료 (오프라인, 전송 대기): {name}",
    door_not_on_list: "이 회의의 확정 명단에 없는 티켓입니다.",
    door_unlisted: "저장된 명단 밖 티켓 (서명 확인됨)",
    door_attended: "입장 명단 ({n})",
    door_conflict_mark: "확인 필요: {what}",
    door_queue: "전송 대기 {n}건",
    door_conflicts: "확인 필요 ({n})",
    outcome_conflict_other_device: "다른 기기에서 먼저 입장 처리됨",
    outcome_conflict_cancelled: "오프라인 중 신청이 취소됨",
    outcome_ticket_invalid: "유효하지 않은 티켓",
    outcome_ticket_wrong_meeting: "다른 회의의 티켓",
    outcome_other: "확인 필요",
  },
  en: {
    door_title: "Meeting door check-in",
    door_back: "Back to certificates",
    door_login: "Staff login",
    door_email: "E-mail",
    door_password: "Password",
    door_login_button: "Log in",
    door_login_failed: "Could not log in. Check the e-mail and password.",
    door_logout: "Log out",
    door_pick: "Pick today's meeting",
    door_none: "No meeting today.",
    door_scan: "Scan ticket with camera",
    door_ticket: "Ticket text",
    door_check: "Check in",
    door_count: "In {in} / confirmed {all}",
    door_expected: "Still expected ({n})",
    door_admitted: "Admitted: {name}",
    door_already: "Already checked in: {name}",
    door_wrong_meeting: "This ticket is for another meeting.",
    door_not_valid: "This ticket is not valid.",
    door_cancelled: "This registration was cancelled.",
    door_not_open: "Check-in is not open now.",
    door_waitlisted: "This registration is on the waitlist.",
    door_offline: "You are offline. Please check again once connected.",
    door_other: "Could not check: {message}",
    door_admitted_offline: "Admitted (offline, to be sent): {name}",
    door_not_on_list: "This ticket is not on the meeting's confirmed list.",
    door_unlisted: "Ticket not on the saved list (signature checked)",
    door_attended: "Checked in ({n})",
    door_conflict_mark: "To check: {what}",
    door_queue: "{n} scans waiting to be sent",
    door_conflicts: "To check ({n})",
    outcome_conflict_other_device: "Admitted first on another device",
    outcome_conflict_cancelled: "Registration cancelled while offline",
    outcome_ticket_invalid: "Ticket not valid",
    outcome_ticket_wrong_meeting: "Ticket for another meeting",
    outcome_other: "To check",
  },
});

const $ = (id) => document.getElementById(id);
const TOKEN = "verifier.door.token";
const door = { meeting: null, registrations: [], queue: [], conflicts: [] };
const DEVICE = "verifier.door.device";

function deviceId() {
  let id = localStorage.getItem(DEVICE);
  if (!id) {
    id = `door-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE, id);
  }
  return id;
}

// The meeting's list and the scans not yet sent survive a reload (and a dead battery's restart).
const storeKey = () => `verifier.door.meeting.${door.meeting.id}`;

function save() {
  localStorage.setItem(storeKey(), JSON.stringify({ meeting: door.meeting, registrations: door.registrations, queue: door.queue }));
}

function restore(meeting) {
  try {
    const saved = JSON.parse(localStorage.getItem(`verifier.door.meeting.${meeting.id}`) || "null");
    door.registrations = saved?.registrations || [];
    door.queue = saved?.queue || [];
  } catch {
    door.registrations = [];
    door.queue = [];
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { status: response.status, data };
}

function template() {
  $("screen-door").innerHTML = `
    <h2 id="door-heading" data-i18n="door_title"></h2>
    <form id="door-login" class="card">
      <h3 data-i18n="door_login"></h3>
      <label for="door-email" data-i18n="door_email"></label>
      <input id="door-email" type="email" autocomplete="username" required>
      <label for="door-password" data-i18n="door_password"></label>
      <input id="door-password" type="password" autocomplete="current-password" required>
      <p id="door-login-error" class="error" role="alert"></p>
      <button class="primary" type="submit" data-i18n="door_login_button"></button>
    </form>
    <div id="door-meetings" hidden>
      <h3 data-i18n="door_pick"></h3>
      <ul id="door-meeting-list" class="list"></ul>
    </div>
    <div id="door-meeting" hidden>
      <h3 id="door-meeting-title"></h3>
      <p id="door-count" class="count" role="status" aria-live="polite"></p>
      <p id="door-outcome" class="result" role="alert" hidden></p>
      <button id="door-scan" class="primary big" type="button" data-i18n="door_scan"></button>
      <form id="door-ticket-form" class="card">
        <label for="door-ticket" data-i18n="door_ticket"></label>
        <input id="door-ticket" autocomplete="off" autocapitalize="characters" spellcheck="false">
        <button class="secondary" type="submit" data-i18n="door_check"></button>
      </form>
      <p id="door-queue" class="hint" role="status"></p>
      <div id="door-conflicts-box" hidden>
        <h3 id="door-conflicts-title"></h3>
        <ul id="door-conflicts" class="list"></ul>
      </div>
      <h3 id="door-expected-title"></h3>
      <ul id="door-expected" class="list"></ul>
      <h3 id="door-attended-title"></h3>
      <ul id="door-attended" class="list"></ul>
    </div>
    <p class="links"><button id="door-logout" class="secondary" type="button" hidden data-i18n="door_logout"></button></p>
    <p class="links"><a href="#" id="door-back" data-i18n="door_back"></a></p>`;
}

async function loadMeetings() {
  const answer = await api("GET", "/api/v1/meetings?limit=100");
  if (answer.status === 401) return showLogin();
  // Today's: starting today (Seoul), or with check-in open now (two hours either side).
  const today = formatTime(Date.now() / 1000, false);
  const margin = 2 * 3600 * 1000;
  const open = (m) => Date.parse(m.starts_at) - margin <= Date.now() && Date.now() <= Date.parse(m.ends_at) + margin;
  const meetings = (answer.data?.items || []).filter(
    (m) => m.status !== "cancelled" && (open(m) || formatTime(Date.parse(m.starts_at) / 1000, false) === today),
  );
  const list = $("door-meeting-list");
  list.replaceChildren();
  if (!meetings.length) {
    const li = document.createElement("li");
    li.textContent = t("door_none");
    list.append(li);
  }
  for (const meeting of meetings) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary big";
    button.dataset.meetingId = meeting.id;
    button.textContent = `${meeting.title} · ${formatTime(Date.parse(meeting.starts_at) / 1000).slice(-5)}`;
    button.addEventListener("click", () => openMeeting(meeting));
    li.append(button);
    list.append(li);
  }
  $("door-login").hidden = true;
  $("door-logout").hidden = false;
  $("door-meetings").hidden = false;
  $("door-meeting").hidden = true;
}

function showLogin() {
  $("door-login").hidden = false;
  $("door-meetings").hidden = true;
  $("door-meeting").hidden = true;
  $("door-logout").hidden = true;
}

async function loadRegistrations() {
  const items = [];
  let cursor = null;
  try {
    do {
      const query = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const answer = await api("GET", `/api/v1/meetings/${door.meeting.id}/registrations${query}`);
      if (answer.status !== 200) throw new Error("list");
      items.push(...answer.data.items);
      cursor = answer.data.next_cursor;
    } while (cursor);
  } catch {
    return renderCounts(); // offline: keep the saved list
  }
  // Scans still queued here are admissions the server does not know yet: keep them marked.
  const queued = new Set(door.queue.map((scan) => scan.registrationId));
  for (const item of items) {
    const old = door.registrations.find((r) => r.id === item.id);
    if (!item.checked_in_at && queued.has(item.id) && old) item.checked_in_at = old.checked_in_at;
  }
  // The confirmed list, and whoever else has a door conflict (e.g. cancelled meanwhile).
  door.registrations = items.filter((r) => r.status === "confirmed" || r.check_in_conflict);
  save();
  renderCounts();
}

async function loadConflicts() {
  try {
    const answer = await api("GET", `/api/v1/meetings/${door.meeting.id}/check-in-conflicts`);
    if (answer.status === 200) door.conflicts = answer.data.items;
  } catch {
    // offline: the last known conflicts stay on screen
  }
  renderCounts();
}

/** Send the queued offline scans; the server counts each scan id once, so resending is safe. */
async function flushQueue() {
  if (!door.meeting || !door.queue.length || !navigator.onLine) return;
  const sending = door.queue.slice(0, 500);
  let answer;
  try {
    answer = await api("POST", `/api/v1/meetings/${door.meeting.id}/check-in-scans`, {
      device_id: deviceId(),
      scans: sending.map(({ scan_id, ticket, scanned_at }) => ({ scan_id, ticket, scanned_at, offline: true })),
    });
  } catch {
    return; // still offline; the queue stays
  }
  if (answer.status !== 200) return;
  const sent = new Set(answer.data.items.map((item) => item.scan_id));
  door.queue = door.queue.filter((scan) => !sent.has(scan.scan_id));
  save();
  await loadRegistrations();
  await loadConflicts();
  if (door.queue.length) await flushQueue();
}

function outcomeText(kind) {
  const known = t(`outcome_${kind}`);
  return known === `outcome_${kind}` ? t("outcome_other") : known;
}

function renderCounts() {
  const all = door.registrations.filter((r) => r.status === "confirmed");
  const expected = all.filter((r) => !r.checked_in_at);
  $("door-count").textContent = t("door_count", { in: all.length - expected.length, all: all.length });
  $("door-expected-title").textContent = t("door_expected", { n: expected.length });
  $("door-queue").textContent = door.queue.length ? t("door_queue", { n: door.queue.length }) : "";
  $("door-queue").dataset.count = String(door.queue.length);
  $("door-conflicts-box").hidden = door.conflicts.length === 0;
  $("door-conflicts-title").textContent = t("door_conflicts", { n: door.conflicts.length });
  $("door-conflicts").replaceChildren(
    ...door.conflicts.map((c) => {
      const li = document.createElement("li");
      li.dataset.outcome = c.outcome;
      li.textContent = `${c.attendee_name || "?"} — ${outcomeText(c.outcome)}`;
      return li;
    }),
  );
  const list = $("door-expected");
  list.replaceChildren(
    ...expected.map((r) => {
      const li = document.createElement("li");
      li.textContent = r.attendee.display_name;
      return li;
    }),
  );
  // The attendance list: who is in, and who needs a second look (the server's conflicts).
  const attended = door.registrations.filter((r) => r.checked_in_at || r.check_in_conflict);
  $("door-attended-title").textContent = t("door_attended", { n: attended.length });
  $("door-attended").replaceChildren(
    ...attended.map((r) => {
      const li = document.createElement("li");
      li.textContent = r.attendee.display_name;
      if (r.check_in_conflict) {
        li.dataset.conflict = r.check_in_conflict.outcome;
        li.className = "conflict";
        const mark = document.createElement("strong");
        mark.textContent = ` — ${t("door_conflict_mark", { what: outcomeText(r.check_in_conflict.outcome) })}`;
        li.append(mark);
      }
      return li;
    }),
  );
}

async function openMeeting(meeting) {
  door.meeting = meeting;
  door.conflicts = [];
  restore(meeting);
  $("door-meetings").hidden = true;
  $("door-meeting").hidden = false;
  $("door-meeting-title").textContent = meeting.title;
  $("door-outcome").hidden = true;
  renderCounts();
  await loadRegistrations();
  await loadConflicts();
  await flushQueue();
}

const OUTCOMES = {
  ticket_invalid: "door_not_valid",
  ticket_wrong_meeting: "door_wrong_meeting",
  registration_cancelled: "door_cancelled",
  registration_not_confirmed: "door_waitlisted",
  check_in_not_open: "door_not_open",
  meeting_cancelled: "door_not_valid",
};

function outcome(kind, text) {
  const el = $("door-outcome");
  el.hidden = false;
  el.dataset.outcome = kind;
  el.dataset.tone = kind === "admitted" ? "green" : kind === "already" ? "amber" : "red";
  el.textContent = text;
}

function admittedLocally(registration) {
  registration.checked_in_at = new Date().toISOString();
  save();
  renderCounts();
}

const OFFLINE_REFUSALS = {
  malformed: "door_not_valid",
  invalid_signature: "door_not_valid",
  wrong_meeting: "door_wrong_meeting",
  waitlisted: "door_waitlisted",
  not_open: "door_not_open",
};

/**
 * With no network: a ticket whose signature verifies with the cached keys (for this meeting,
 * confirmed, within its window) admits by itself; an MT1 ticket, or one signed by a key this
 * phone has not seen yet, only from the saved confirmed list. The scan is queued either way.
 */
async function checkOffline(text) {
  const check = await checkTicketOffline(text, keysByKid(stored()?.jwks), door.meeting.id, trustedNow());
  const listed = check.registrationId && door.registrations.find((r) => r.id === check.registrationId && r.status === "confirmed");
  const vouched = ["legacy", "unknown_key", "waitlisted"].includes(check.status) && listed;
  if (check.status !== "valid" && !vouched) {
    const refusal = OFFLINE_REFUSALS[check.status] || "door_not_on_list";
    return outcome(check.status === "wrong_meeting" ? "wrong_meeting" : "not_valid", t(refusal));
  }
  const name = listed ? listed.attendee.display_name : t("door_unlisted");
  const queued = door.queue.some((scan) => scan.registrationId === check.registrationId);
  if (listed?.checked_in_at || queued) return outcome("already", t("door_already", { name }));
  door.queue.push({
    scan_id: crypto.randomUUID(),
    ticket: text.trim(),
    scanned_at: new Date(trustedNow() * 1000).toISOString(),
    registrationId: check.registrationId,
  });
  if (listed) admittedLocally(listed);
  else {
    save();
    renderCounts();
  }
  return outcome("admitted", t("door_admitted_offline", { name }));
}

/** Check one ticket in: online through the server's one rule, offline from the saved list. */
async function checkTicket(text) {
  show("door");
  if (!navigator.onLine) return checkOffline(text);
  let answer;
  try {
    answer = await api("POST", `/api/v1/meetings/${door.meeting.id}/check-in-scans`, {
      device_id: deviceId(),
      scans: [{ scan_id: crypto.randomUUID(), ticket: text.trim(), scanned_at: new Date().toISOString(), offline: false }],
    });
  } catch {
    return checkOffline(text); // the network dropped without the browser noticing yet
  }
  if (answer.status === 401) return showLogin();
  if (answer.status !== 200) {
    return outcome("error", t("door_other", { message: answer.data?.error?.message || answer.status }));
  }
  const item = answer.data.items[0];
  const registration = door.registrations.find((r) => r.id === item.registration_id);
  const name = item.attendee_name || registration?.attendee.display_name || "";
  if (item.outcome === "admitted") {
    if (registration) admittedLocally(registration);
    else await loadRegistrations();
    return outcome("admitted", t("door_admitted", { name }));
  }
  if (item.outcome === "already_checked_in" || item.outcome === "conflict_other_device") {
    return outcome("already", t("door_already", { name }));
  }
  if (item.outcome === "ticket_wrong_meeting") return outcome("wrong_meeting", t("door_wrong_meeting"));
  return outcome("not_valid", t(OUTCOMES[item.outcome] || "door_not_valid"));
}

export function init() {
  template();
  applyTranslations($("screen-door"));
  onScreen("door", {
    enter: () => {
      if (sessionStorage.getItem(TOKEN)) {
        if (!door.meeting) loadMeetings();
      } else showLogin();
    },
  });
  $("door-login").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("door-login-error").textContent = "";
    let answer;
    try {
      answer = await api("POST", "/api/v1/auth/login", {
        identifier: $("door-email").value,
        password: $("door-password").value,
      });
    } catch {
      answer = { status: 0 };
    }
    if (answer.status !== 200) {
      $("door-login-error").textContent = t("door_login_failed");
      return;
    }
    sessionStorage.setItem(TOKEN, answer.data.access_token);
    $("door-password").value = "";
    await loadMeetings();
  });
  $("door-logout").addEventListener("click", () => {
    const token = sessionStorage.getItem(TOKEN);
    if (token) api("POST", "/api/v1/auth/logout").catch(() => {});
    sessionStorage.removeItem(TOKEN);
    door.meeting = null;
    showLogin();
  });
  $("door-ticket-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("door-ticket").value;
    $("door-ticket").value = "";
    if (text.trim()) checkTicket(text);
  });
  $("door-scan").addEventListener("click", () => startScan(checkTicket, "door"));
  addEventListener("online", () => flushQueue());
  $("door-back").addEventListener("click", (event) => {
    event.preventDefault();
    history.pushState(null, "", location.pathname);
    show("check");
  });
}
