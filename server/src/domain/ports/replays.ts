// Keys that may be used once within a window (a message push's timestamp and nonce): shared through the
// store, so every worker and instance sees every use.
export interface ReplayStore {
  /** Atomic: marks `key` used until `expiresAt`. True when it was free at `now` (never used, or its use expired). */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Frees a key whose use failed before it took effect (the sender's retry may then use it). */
  releaseClaim(key: string): Promise<void>;
  /** Deletes uses expired at `now`; returns how many. */
  purgeClaims(now: number): Promise<number>;
}
