// The operator's signed-in sessions on the ops page, kept server-side: the cookie holds a random id,
// the store its hash.
import type { OpsSession } from '../ops-session';

export interface OpsSessionStore {
  createOpsSession(session: OpsSession): Promise<void>;
  findOpsSession(idHash: string): Promise<OpsSession | null>;
  /** Records that the session was used at `lastSeenAt`. */
  touchOpsSession(idHash: string, lastSeenAt: number): Promise<void>;
  deleteOpsSession(idHash: string): Promise<void>;
  /** Deletes sessions created at or before `createdBefore`, or last used at or before `seenBefore`; returns how many. */
  purgeOpsSessions(createdBefore: number, seenBefore: number): Promise<number>;
}
