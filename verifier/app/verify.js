// Offline certificate verification, step by step as mobile_contract/OFFLINE_VERIFICATION.md
// describes it (the server's side is backend/certification/token.py and status_list.py).
// Pure functions over the trust data; nothing here touches the page or the network.

export const QR_PREFIX = "CPC1:/";
export const LEEWAY_SECONDS = 300;
const MAX_TOKEN_LENGTH = 2048;
const MAX_STATUS_LIST_TOKEN_LENGTH = 512 * 1024;
const MAX_TIMESTAMP = 253402300799;
const MAX_REVOCATION_INDEX = 2 ** 32 - 1;
const STATUS_LIST_TYP = "cpc-status+jwt";
const KIND_NAMES = { mc: "model_citizen", cm: "committee_member" };
const CLAIMS = ["i", "c", "k", "n", "t", "e", "r"];
const STATUS_CLAIMS = ["iss", "iat", "ttl", "size", "bits"];
const ISSUER = /^[A-Za-z0-9-]{1,10}$/;
const CERTIFICATE_ID = /^[A-Za-z0-9_-]{8,24}$/;
const KID = /^[A-Za-z0-9_-]{1,8}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;
const JWS_CHAR = /^[A-Za-z0-9_.-]$/;

export class Malformed extends Error {}

/** QR text (CPC1:/digits) or a bare compact JWS -> the JWS; throws Malformed. */
export function tokenFromText(text) {
  if (typeof text !== "string") throw new Malformed("not text");
  const stripped = text.trim();
  if (!stripped.startsWith(QR_PREFIX)) return stripped;
  const digits = stripped.slice(QR_PREFIX.length);
  if (digits.length % 2 || digits.length > 2 * MAX_TOKEN_LENGTH || !/^[0-9]*$/.test(digits)) {
    throw new Malformed("QR text must continue with an even number of ASCII digits");
  }
  let token = "";
  for (let i = 0; i < digits.length; i += 2) {
    const c = String.fromCharCode(Number(digits.slice(i, i + 2)) + 45);
    if (!JWS_CHAR.test(c)) throw new Malformed("QR digits encode a character outside the token");
    token += c;
  }
  return token;
}

/** Strict, canonical, unpadded base64url -> bytes; throws Malformed. */
export function b64urlDecode(text) {
  // Canonical only: a visibly altered token must not decode to the signed bytes.
  if (!B64URL.test(text) || text.length % 4 === 1) throw new Malformed("not base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  let binary;
  try {
    binary = atob(padded);
  } catch {
    throw new Malformed("not base64url");
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (b64urlEncode(bytes) !== text) throw new Malformed("not canonical base64url");
  return bytes;
}

export function b64urlEncode(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function parseJson(bytes) {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new Malformed("not strict UTF-8 JSON");
  }
}

export const isInt = (v) => typeof v === "number" && Number.isInteger(v);
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
export const hasExactly = (obj, names) =>
  isObject(obj) && Object.keys(obj).length === names.length && names.every((n) => n in obj);

export function splitJws(token, maxLength) {
  if (typeof token !== "string" || token.length > maxLength) throw new Malformed("too long");
  const parts = token.split(".");
  if (parts.length !== 3) throw new Malformed("three parts needed");
  const header = parseJson(b64urlDecode(parts[0]));
  const payload = parseJson(b64urlDecode(parts[1]));
  const signature = b64urlDecode(parts[2]);
  if (signature.length !== 64) throw new Malformed("ES256 signature must be 64 bytes");
  if (!isObject(header) || header.alg !== "ES256" || typeof header.kid !== "string" || !KID.test(header.kid)) {
    throw new Malformed("header must be ES256 with a short kid");
  }
  const signingInput = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  return { header, payload, signature, signingInput };
}

function isMaskedHolder(holder) {
  return (
    typeof holder === "string" &&
    holder.length > 0 &&
    [...holder].length <= 20 &&
    new TextEncoder().encode(holder).length <= 40 &&
    holder.includes("*") &&
    holder === holder.trim() &&
    holder === holder.normalize("NFC")
  );
}

/** Parse and shape-check a certificate token (steps 1-4); throws Malformed. */
export function parseToken(text) {
  const { header, payload, signature, signingInput } = splitJws(tokenFromText(text), MAX_TOKEN_LENGTH);
  if (!hasExactly(header, ["alg", "kid"])) throw new Malformed("header must be exactly alg and kid");
  if (!hasExactly(payload, CLAIMS)) throw new Malformed("payload must hold exactly i c k n t e r");
  const p = payload;
  const ok =
    typeof p.i === "string" && ISSUER.test(p.i) &&
    typeof p.c === "string" && CERTIFICATE_ID.test(p.c) &&
    typeof p.k === "string" && Object.hasOwn(KIND_NAMES, p.k) &&
    isMaskedHolder(p.n) &&
    isInt(p.t) && p.t >= 0 && p.t <= MAX_TIMESTAMP &&
    isInt(p.e) && p.e >= 0 && p.e <= MAX_TIMESTAMP && p.e > p.t &&
    isInt(p.r) && p.r >= 0 && p.r <= MAX_REVOCATION_INDEX;
  if (!ok) throw new Malformed("invalid claims");
  const claims = {
    issuer: p.i, certificateId: p.c, kind: KIND_NAMES[p.k], holder: p.n,
    issuedAt: p.t, expiresAt: p.e, revocationIndex: p.r,
  };
  return { kid: header.kid, claims, signature, signingInput };
}

const keyCache = new Map();

async function importKey(jwk) {
  const id = `${jwk.x}.${jwk.y}`;
  if (!keyCache.has(id)) {
    keyCache.set(
      id,
      crypto.subtle.importKey(
        "jwk",
        { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      ),
    );
  }
  return keyCache.get(id);
}

/** ES256 over signingInput with a public JWK; false on any failure. */
export async function verifyEs256(jwk, signature, signingInput) {
  if (!jwk || jwk.kty !== "EC" || jwk.crv !== "P-256") return false;
  try {
    // WebCrypto takes the raw r||s form that JWS uses, no DER conversion needed.
    return await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" }, await importKey(jwk), signature, signingInput,
    );
  } catch {
    return false;
  }
}

/** JWKS document -> Map kid -> JWK. */
export function keysByKid(jwks) {
  const keys = new Map();
  for (const key of (jwks && jwks.keys) || []) {
    if (key && typeof key.kid === "string") keys.set(key.kid, key);
  }
  return keys;
}

async function gunzipExactly(bytes, length) {
  // Bounded: a small hostile gzip must not expand without limit.
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.getReader();
  const out = new Uint8Array(length);
  let filled = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (filled + value.length > length) throw new Malformed("bits too long");
      out.set(value, filled);
      filled += value.length;
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error instanceof Malformed ? error : new Malformed("bits are not gzip data");
  }
  if (filled !== length) throw new Malformed("bits too short");
  return out;
}

/** Verify a signed status list and decode it; throws Malformed on any problem. */
export async function readStatusList(token, keys) {
  const { header, payload, signature, signingInput } = splitJws(token, MAX_STATUS_LIST_TOKEN_LENGTH);
  if (!hasExactly(header, ["alg", "kid", "typ"]) || header.typ !== STATUS_LIST_TYP) {
    throw new Malformed("status list header must be alg, kid and typ");
  }
  if (!(await verifyEs256(keys.get(header.kid), signature, signingInput))) {
    throw new Malformed("status list signature does not verify");
  }
  const p = payload;
  const ok =
    hasExactly(p, STATUS_CLAIMS) && typeof p.iss === "string" && ISSUER.test(p.iss) &&
    isInt(p.iat) && p.iat >= 0 && p.iat <= MAX_TIMESTAMP &&
    isInt(p.ttl) && p.ttl >= 1 && p.ttl <= 31 * 24 * 3600 &&
    isInt(p.size) && p.size >= 8 && p.size <= 2 ** 20 && p.size % 8 === 0 &&
    typeof p.bits === "string";
  if (!ok) throw new Malformed("invalid status list claims");
  const bits = await gunzipExactly(b64urlDecode(p.bits), p.size / 8);
  return { issuer: p.iss, issuedAt: p.iat, ttl: p.ttl, size: p.size, bits };
}

/** Bit `index` of a status list; outside the list counts as revoked (fail closed). */
export function isRevoked(list, index) {
  if (index < 0 || index >= list.size) return true;
  return Boolean(list.bits[index >> 3] & (0x80 >> (index & 7)));
}

/**
 * Check scanned text against trust data at `now` (epoch seconds).
 * trust: {keys: Map kid->JWK, lists: Map issuer->decoded status list}.
 * Answers {status, claims?, checks: {format, key, signature, revocation, validity}}, where each
 * check is "ok", "fail", "skipped" or (revocation only) "unchecked" when no list was cached.
 */
export async function checkText(text, trust, now) {
  const checks = { format: "fail", key: "skipped", signature: "skipped", revocation: "skipped", validity: "skipped" };
  let parsed;
  try {
    parsed = parseToken(text);
  } catch (error) {
    if (error instanceof Malformed) return { status: "malformed", checks };
    throw error;
  }
  checks.format = "ok";
  const jwk = trust.keys.get(parsed.kid);
  if (!jwk) return { status: "unknown_key", kid: parsed.kid, checks: { ...checks, key: "fail" } };
  checks.key = "ok";
  if (!(await verifyEs256(jwk, parsed.signature, parsed.signingInput))) {
    // Claims of a token whose signature fails are not shown: they cannot be trusted.
    return { status: "invalid_signature", kid: parsed.kid, checks: { ...checks, signature: "fail" } };
  }
  checks.signature = "ok";
  const claims = parsed.claims;
  const list = trust.lists.get(claims.issuer);
  let status = "valid";
  if (!list) {
    checks.revocation = "unchecked";
  } else if (isRevoked(list, claims.revocationIndex)) {
    checks.revocation = "fail";
    status = "revoked";
  } else {
    checks.revocation = "ok";
  }
  if (claims.issuedAt > now + LEEWAY_SECONDS) {
    checks.validity = "fail";
    if (status === "valid") status = "not_yet_valid";
  } else if (claims.expiresAt <= now - LEEWAY_SECONDS) {
    checks.validity = "fail";
    if (status === "valid") status = "expired";
  } else {
    checks.validity = "ok";
  }
  return { status, kid: parsed.kid, claims, list: list ? { issuedAt: list.issuedAt, ttl: list.ttl } : null, checks };
}
