// Signing the operator in and out of the ops page, and checking a session on each request (the rules of
// a session are in ops-session.ts).
import crypto from 'node:crypto';
import { isOpsSessionAlive, OPS_SESSION_IDLE_MS, OPS_SESSION_MAX_MS } from './ops-session';
import type { OpsSessionStore } from './ports/ops-sessions';

/** A session's last use is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

export interface OpsSessionDeps {
  store: OpsSessionStore;
  now: () => number;
  /** The admin token now (from configuration). */
  adminToken: string;
  /** A keyed hash of a token: equal tokens, equal fingerprints; nothing else learned from it. */
  fingerprint(token: string): string;
}

const hash = (id: string) => crypto.createHash('sha256').update(id).digest('hex');
const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

/** Signs the operator in: a new session id when `given` is the admin token (compared in constant time), else null. */
export async function openOpsSession(deps: OpsSessionDeps, given: string): Promise<string | null> {
  if (!crypto.timingSafeEqual(digest(given), digest(deps.adminToken))) return null;
  const id = crypto.randomBytes(32).toString('base64url');
  const now = deps.now();
  await deps.store.createOpsSession({
    idHash: hash(id),
    tokenFingerprint: deps.fingerprint(deps.adminToken),
    createdAt: now,
    lastSeenAt: now,
  });
  return id;
}

/** The session behind a cookie's id, if it is alive (its last use is recorded); an ended one is deleted. */
export async function checkOpsSession(deps: OpsSessionDeps, id: string): Promise<boolean> {
  if (!/^[\w-]{43}$/.test(id)) return false;
  const idHash = hash(id);
  const s = await deps.store.findOpsSession(idHash);
  if (!s) return false;
  const now = deps.now();
  if (!isOpsSessionAlive(s, now, deps.fingerprint(deps.adminToken))) {
    await deps.store.deleteOpsSession(idHash);
    return false;
  }
  if (now - s.lastSeenAt >= TOUCH_EVERY_MS) await deps.store.touchOpsSession(idHash, now);
  return true;
}

export async function closeOpsSession(deps: Pick<OpsSessionDeps, 'store'>, id: string): Promise<void> {
  if (/^[\w-]{43}$/.test(id)) await deps.store.deleteOpsSession(hash(id));
}

/** Deletes sessions past their lifetime or idle too long (sessions of an old token die on their next use, or here within 8 hours). */
export function purgeOpsSessions(deps: Pick<OpsSessionDeps, 'store' | 'now'>): Promise<number> {
  const now = deps.now();
  return deps.store.purgeOpsSessions(now - OPS_SESSION_MAX_MS, now - OPS_SESSION_IDLE_MS);
}
