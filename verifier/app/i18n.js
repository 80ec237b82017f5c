// Korean first, English on a switch. Elements carry data-i18n="key"; code calls t(key, values).
const MESSAGES = {
  ko: {
    app_title: "인증서 확인",
    switch_language: "English",
    switch_language_label: "Switch to English",
    offline: "오프라인입니다. 저장된 신뢰 정보로 확인합니다.",
    trust_none: "신뢰 정보를 아직 받지 못했습니다. 인터넷에 연결해 주세요.",
    trust_refreshed: "신뢰 정보 갱신: {time}",
    trust_stale: "신뢰 정보가 {hours}시간 넘게 갱신되지 않았습니다.",
    refresh_now: "지금 갱신",
    refreshing: "갱신 중…",
    refresh_failed: "갱신하지 못했습니다. 이전 신뢰 정보를 그대로 씁니다.",
    clock_wrong: "이 기기의 시계가 서버 시각과 {minutes}분 다릅니다. 시계를 맞춰 주세요. 확인은 서버 시각 기준으로 합니다.",
    scan_camera: "카메라로 QR 스캔",
    paste_label: "QR 내용 붙여넣기",
    paste_hint: "CPC1:/ 로 시작하는 글자를 붙여넣으세요.",
    check: "확인하기",
    number_label: "발급번호 입력",
    number_hint: "종이 인증서에 인쇄된 16자리 번호 (예: 1234-5678-9012-3456)",
    number_check: "번호로 확인 (온라인)",
    number_offline: "발급번호 확인은 인터넷 연결이 필요합니다.",
    number_invalid: "발급번호가 올바르지 않습니다. 다시 확인해 주세요.",
    number_not_found: "이 번호의 인증서를 찾지 못했습니다.",
    rate_limited: "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    door_link: "회의 입장 확인 (담당자)",
    scan_title: "QR 스캔",
    scan_help: "QR 코드를 네모 안에 맞춰 주세요.",
    scan_cancel: "스캔 취소",
    camera_denied: "카메라를 쓸 수 없습니다. 붙여넣기나 발급번호로 확인해 주세요.",
    result_title: "확인 결과",
    again: "다른 인증서 확인",
    status_valid: "유효",
    status_valid_as_of: "{time} 기준 유효",
    status_valid_unchecked: "유효 — 폐지 여부 미확인",
    status_expired: "만료됨",
    status_revoked: "폐지됨",
    status_not_yet_valid: "아직 유효하지 않음",
    status_invalid_signature: "위조 또는 변조됨 (서명 불일치)",
    status_unknown_key: "알 수 없는 발급 키 (위조 의심)",
    status_malformed: "인증서 QR이 아닙니다",
    status_not_found: "찾을 수 없음",
    field_holder: "소지자",
    field_kind: "종류",
    field_municipality: "발급 기관",
    field_issued: "발급일",
    field_expires: "만료일",
    field_number: "발급번호",
    checks_title: "확인 항목",
    check_format: "QR 형식",
    check_key: "발급 키 확인",
    check_signature: "전자서명",
    check_revocation: "폐지되지 않음",
    check_validity: "유효기간 이내",
    check_online: "서버에서 확인",
    mark_ok: "통과",
    mark_fail: "실패",
    mark_skipped: "확인 안 함",
    mark_unchecked: "목록 없음",
    kind_model_citizen: "모범시민증",
    kind_committee_member: "시민위원",
    skip_link: "본문으로 건너뛰기",
  },
  en: {
    app_title: "Certificate check",
    switch_language: "한국어",
    switch_language_label: "한국어로 보기",
    offline: "You are offline. Checking with the saved trust data.",
    trust_none: "No trust data yet. Please connect to the internet.",
    trust_refreshed: "Trust data refreshed: {time}",
    trust_stale: "Trust data not refreshed for over {hours} hours.",
    refresh_now: "Refresh now",
    refreshing: "Refreshing…",
    refresh_failed: "Refresh failed. The previous trust data stays in use.",
    clock_wrong: "This device's clock is {minutes} minutes off the server's. Please set it. Checks use the server's time.",
    scan_camera: "Scan QR with camera",
    paste_label: "Paste the QR text",
    paste_hint: "Paste the text starting with CPC1:/.",
    check: "Check",
    number_label: "Issue number",
    number_hint: "The 16-digit number printed on the paper certificate (e.g. 1234-5678-9012-3456)",
    number_check: "Check the number (online)",
    number_offline: "Checking an issue number needs the internet.",
    number_invalid: "This issue number is not valid. Please check it.",
    number_not_found: "No certificate has this number.",
    rate_limited: "Too many requests. Please wait a moment.",
    door_link: "Meeting door check-in (staff)",
    scan_title: "Scan QR",
    scan_help: "Fit the QR code in the square.",
    scan_cancel: "Cancel scan",
    camera_denied: "The camera is not available. Paste the text or type the issue number.",
    result_title: "Result",
    again: "Check another certificate",
    status_valid: "Valid",
    status_valid_as_of: "Valid as of {time}",
    status_valid_unchecked: "Valid — revocation not checked",
    status_expired: "Expired",
    status_revoked: "Revoked",
    status_not_yet_valid: "Not yet valid",
    status_invalid_signature: "Forged or altered (bad signature)",
    status_unknown_key: "Unknown issuer key (likely forged)",
    status_malformed: "Not a certificate QR",
    status_not_found: "Not found",
    field_holder: "Holder",
    field_kind: "Kind",
    field_municipality: "Issued by",
    field_issued: "Issued",
    field_expires: "Expires",
    field_number: "Issue number",
    checks_title: "Checks",
    check_format: "QR format",
    check_key: "Issuer key known",
    check_signature: "Signature",
    check_revocation: "Not revoked",
    check_validity: "Within validity",
    check_online: "Checked by the server",
    mark_ok: "passed",
    mark_fail: "failed",
    mark_skipped: "not checked",
    mark_unchecked: "no list",
    kind_model_citizen: "Model citizen",
    kind_committee_member: "Citizen committee member",
    skip_link: "Skip to content",
  },
};

let language = localStorage.getItem("verifier.lang") === "en" ? "en" : "ko";

export const getLanguage = () => language;

export function setLanguage(next) {
  language = next === "en" ? "en" : "ko";
  localStorage.setItem("verifier.lang", language);
  document.documentElement.lang = language;
  applyTranslations();
}

/** Extend the catalogue (door check-in adds its own strings). */
export function addMessages(extra) {
  for (const lang of Object.keys(extra)) Object.assign(MESSAGES[lang], extra[lang]);
}

export function t(key, values = {}) {
  const text = MESSAGES[language][key] ?? MESSAGES.ko[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function applyTranslations(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

/** A moment (epoch seconds) in Seoul time, in the chosen language. */
export function formatTime(seconds, withTime = true) {
  const options = withTime
    ? { timeZone: "Asia/Seoul", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
    : { timeZone: "Asia/Seoul", year: "numeric", month: "2-digit", day: "2-digit" };
  return new Intl.DateTimeFormat(language === "en" ? "en-CA" : "ko-KR", options).format(new Date(seconds * 1000));
}
