// The operator's sessions on the ops page. Signing in with the admin token gives a random session id
// (the cookie); the store keeps its hash, when it began and when it was last used, and a fingerprint of
// the token it was opened with. A session ends at logout, after an hour unused, eight hours after it
// began, or as soon as the admin token changes.

export interface OpsSession {
  idHash: string;
  /** A keyed hash of the admin token the session was opened with (never the token). */
  tokenFingerprint: string;
  createdAt: number;
  lastSeenAt: number;
}

export const OPS_SESSION_MAX_MS = 8 * 3600_000;
export const OPS_SESSION_IDLE_MS = 3600_000;

/** Whether the session is alive at `now` for the token configured now. */
export function isOpsSessionAlive(s: OpsSession, now: number, tokenFingerprint: string): boolean {
  return s.tokenFingerprint === tokenFingerprint && now - s.createdAt < OPS_SESSION_MAX_MS && now - s.lastSeenAt < OPS_SESSION_IDLE_MS;
}
