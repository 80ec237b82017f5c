// Offline check of meeting tickets (MT2, backend/committees/tickets.py): an ES256 JWS signed
// with the same keys as certificates, so the cached JWKS is all a door device needs. Pure
// functions; the server re-checks every queued scan when the network returns.
import { LEEWAY_SECONDS, Malformed, hasExactly, isInt, splitJws, verifyEs256 } from "./verify.js";

export const TICKET_PREFIX = "MT2:";
const LEGACY = /^MT1:([0-9A-Z]{26}):[0-9A-Z]{26}$/i;
const MAX_TICKET_LENGTH = 512;
const TYP = "mt";
const CLAIMS = ["m", "r", "s", "nb", "e"];
const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Parse an MT2 ticket's JWS (shape only); throws Malformed. */
export function parseTicket(text) {
  const trimmed = String(text).trim();
  if (!trimmed.startsWith(TICKET_PREFIX)) throw new Malformed("not an MT2 ticket");
  const { header, payload, signature, signingInput } = splitJws(
    trimmed.slice(TICKET_PREFIX.length), MAX_TICKET_LENGTH,
  );
  // typ keeps a certificate or a status list from passing for a ticket.
  if (!hasExactly(header, ["alg", "kid", "typ"]) || header.typ !== TYP) {
    throw new Malformed("ticket header must be alg, kid and typ mt");
  }
  const p = payload;
  const ok =
    hasExactly(p, CLAIMS) && typeof p.m === "string" && ID.test(p.m) &&
    typeof p.r === "string" && ID.test(p.r) && (p.s === "c" || p.s === "w") &&
    isInt(p.nb) && isInt(p.e);
  if (!ok) throw new Malformed("invalid ticket claims");
  const claims = { meetingId: p.m, registrationId: p.r, confirmed: p.s === "c", notBefore: p.nb, expiresAt: p.e };
  return { kid: header.kid, claims, signature, signingInput };
}

/**
 * Check a scanned ticket for `meetingId` at `now` (epoch seconds) with keys (Map kid -> JWK).
 * Answers {status, registrationId?}: "valid", "legacy" (an MT1 ticket: only the saved list can
 * vouch for it), "malformed", "unknown_key", "invalid_signature", "wrong_meeting",
 * "waitlisted" or "not_open". Claims are read only once the signature verified.
 */
export async function checkTicketOffline(text, keys, meetingId, now) {
  const legacy = LEGACY.exec(String(text).trim());
  if (legacy) return { status: "legacy", registrationId: legacy[1].toUpperCase() };
  let parsed;
  try {
    parsed = parseTicket(text);
  } catch (error) {
    if (error instanceof Malformed) return { status: "malformed" };
    throw error;
  }
  const jwk = keys.get(parsed.kid);
  if (!jwk) return { status: "unknown_key", registrationId: parsed.claims.registrationId };
  if (!(await verifyEs256(jwk, parsed.signature, parsed.signingInput))) return { status: "invalid_signature" };
  const { claims } = parsed;
  const registrationId = claims.registrationId;
  if (claims.meetingId !== meetingId) return { status: "wrong_meeting", registrationId };
  if (!claims.confirmed) return { status: "waitlisted", registrationId };
  if (now < claims.notBefore - LEEWAY_SECONDS || now > claims.expiresAt + LEEWAY_SECONDS) {
    return { status: "not_open", registrationId };
  }
  return { status: "valid", registrationId };
}
