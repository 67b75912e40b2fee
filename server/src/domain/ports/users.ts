// Shoppers and their login sessions.
import type { Session, User } from '../user';

export interface UserStore {
  /** Creates the user for an openid, or updates its session key (and unionid when given); one write. */
  upsertUser(input: { openid: string; unionid: string | null; sessionKey: string; now: number }): Promise<User>;
  findUserById(id: string): Promise<User | null>;

  /** DuplicateKeyError('token') for a token hash already stored. */
  createSession(session: Session): Promise<void>;
  findSession(tokenHash: string): Promise<Session | null>;
  /** The session and its user, in one read (authentication on every request). */
  findSessionUser(tokenHash: string): Promise<{ session: Session; user: User } | null>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Deletes every session of the user; returns how many. */
  deleteSessionsOfUser(userId: string): Promise<number>;
  /** Deletes sessions whose expiry is at or before `now`; returns how many. */
  purgeExpiredSessions(now: number): Promise<number>;
}
