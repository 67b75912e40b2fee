// Login and sessions. Tokens are random; only their SHA-256 is stored.
import crypto from 'node:crypto';
import { IdentityProviderError, type IdentityProvider } from './ports/identity-provider';
import type { UserStore } from './ports/store';
import { AppError, identityFailure } from './errors';
import type { SecretSealer, User } from './user';

export interface AuthDeps {
  store: UserStore;
  identity: IdentityProvider;
  now: () => number;
  sessionTtlMs: number;
  sealer: SecretSealer;
}

export const hashToken = (token: string) => crypto.hash('sha256', token);

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: { id: string };
}

export async function login(deps: AuthDeps, code: string): Promise<LoginResult> {
  const session = await deps.identity.exchange(code).catch((err: unknown) => {
    throw err instanceof IdentityProviderError ? identityFailure(err) : err;
  });
  const now = deps.now();
  const user = await deps.store.upsertUser({
    openid: session.openid,
    unionid: session.unionid,
    sessionKey: deps.sealer.seal(session.sessionKey),
    now,
  });
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = now + deps.sessionTtlMs;
  await deps.store.createSession({ tokenHash: hashToken(token), userId: user.id, expiresAt });
  return { token, expiresAt: new Date(expiresAt).toISOString(), user: { id: user.id } };
}

export async function authenticate(deps: Pick<AuthDeps, 'store' | 'now'>, token: string | undefined): Promise<User> {
  const unauthenticated = () => new AppError('UNAUTHENTICATED', 'sign in again: the session is missing, unknown or expired');
  if (!token) throw unauthenticated();
  const found = await deps.store.findSessionUser(hashToken(token));
  if (!found || found.session.expiresAt <= deps.now()) throw unauthenticated();
  return found.user;
}

export async function logout(deps: Pick<AuthDeps, 'store'>, token: string): Promise<void> {
  await deps.store.deleteSession(hashToken(token));
}

/** Ends every session of the user: a lost phone, a shared device. Returns how many ended. */
export async function logoutEverywhere(deps: Pick<AuthDeps, 'store'>, user: User): Promise<number> {
  return deps.store.deleteSessionsOfUser(user.id);
}

/** Removes sessions past their expiry (they already authenticate nobody). */
export async function purgeExpiredSessions(deps: Pick<AuthDeps, 'store' | 'now'>): Promise<number> {
  return deps.store.purgeExpiredSessions(deps.now());
}
