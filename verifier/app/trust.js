// Trust data: the public keys, the signed status lists and the municipalities' names, kept in
// localStorage so checks work with no network. A refresh replaces them only when everything it
// downloaded verified; a failed refresh changes nothing (above all not the refresh time).
import { keysByKid, readStatusList } from "./verify.js";

const STORE = "verifier.trust.v1";
const URLS = {
  jwks: "/.well-known/jwks.json",
  revocations: "/api/v1/certificates/revocations",
  municipalities: "/api/v1/municipalities",
};

/** The stored raw trust data, or null before the first successful refresh. */
export function stored() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
}

/** Decode stored trust data for checking: keys by kid, verified status lists by issuer. */
export async function decode(raw) {
  const keys = keysByKid(raw && raw.jwks);
  const lists = new Map();
  for (const token of (raw && raw.lists) || []) {
    try {
      const list = await readStatusList(token, keys);
      lists.set(list.issuer, list);
    } catch {
      // A list that does not verify is not used; the issuer's certificates read "not checked".
    }
  }
  const names = new Map(((raw && raw.municipalities) || []).map((m) => [m.code, m]));
  return { keys, lists, names };
}

async function getJson(url) {
  const response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
  // The service worker answers from its cache when offline and says so: not a refresh.
  if (!response.ok || response.headers.get("X-Verifier-Cache") === "hit") {
    throw new Error(`refresh of ${url} failed`);
  }
  return { body: await response.json(), date: response.headers.get("Date") };
}

/**
 * Download keys, lists and names; store them only if the lists verify with the keys.
 * Keys are merged, never dropped: certificates signed by a retired key stay checkable.
 * Answers the new raw trust data; throws (storing nothing) on any failure.
 */
export async function refresh() {
  const started = Date.now();
  const [jwks, revocations, municipalities] = await Promise.all(
    [URLS.jwks, URLS.revocations, URLS.municipalities].map(getJson),
  );
  const previous = stored();
  const merged = new Map(keysByKid(previous && previous.jwks));
  for (const [kid, key] of keysByKid(jwks.body)) merged.set(kid, key);
  const keys = merged;
  const tokens = (revocations.body && revocations.body.items) || [];
  for (const token of tokens) await readStatusList(token, keys); // throws on a bad list
  const now = Date.now();
  const serverTime = Date.parse(jwks.date || "");
  const raw = {
    jwks: { keys: [...keys.values()] },
    lists: tokens,
    municipalities: Array.isArray(municipalities.body) ? municipalities.body : [],
    refreshedAt: now,
    // Server time minus device time at the refresh (half the round trip's error at most).
    clockOffsetMs: Number.isFinite(serverTime) ? serverTime - (started + now) / 2 : 0,
  };
  localStorage.setItem(STORE, JSON.stringify(raw));
  return raw;
}

/** Forget the trust data (used by tests and the settings' reset). */
export function clear() {
  localStorage.removeItem(STORE);
}
