// Fast tier: logging in and sessions, against the in-memory store and a fake login provider.
import { describe, expect, it } from 'vitest';
import { authenticate, hashToken, login, logout, logoutEverywhere, purgeExpiredSessions } from '../../src/domain/auth';
import { AppError } from '../../src/domain/errors';
import { fastSystem } from '../support/fakes';

describe('login and sessions', () => {
  it('logs a shopper in: one user per openid, a random token stored only as its hash, the session key sealed', async () => {
    const sys = await fastSystem();
    const first = await login(sys.auth, sys.identity.codeFor('oALICE'));
    const again = await login(sys.auth, sys.identity.codeFor('oALICE'));
    expect(again.user.id).toBe(first.user.id);
    expect(first.token).not.toBe(again.token);
    expect(first.token).toMatch(/^[\w-]{43}$/);
    expect(await sys.store.findSession(first.token)).toBeNull();
    expect(await sys.store.findSession(hashToken(first.token))).toMatchObject({ userId: first.user.id });
    const user = (await sys.store.findUserById(first.user.id))!;
    expect(user.sessionKey.startsWith('sealed:')).toBe(true);
    expect(new Date(first.expiresAt).getTime()).toBe(sys.clock.now() + sys.auth.sessionTtlMs);
    expect((await authenticate(sys.auth, first.token)).id).toBe(first.user.id);
  });

  it("says what went wrong at WeChat's end in the shop's words", async () => {
    const sys = await fastSystem();
    const failed = async () => (await login(sys.auth, 'used-code').catch((e: unknown) => e)) as AppError;
    expect((await failed()).code).toBe('WECHAT_CODE_INVALID');
    sys.identity.failNext('BUSY');
    expect((await failed()).code).toBe('WECHAT_BUSY');
    sys.identity.failNext('UNAVAILABLE');
    expect((await failed()).code).toBe('WECHAT_UNREACHABLE');
  });

  it('refuses a missing, unknown or expired token, and purges expired sessions', async () => {
    const sys = await fastSystem();
    const { token } = await login(sys.auth, sys.identity.codeFor('oBOB'));
    for (const t of [undefined, 'nope'.repeat(8)])
      await expect(authenticate(sys.auth, t)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    sys.clock.advance(sys.auth.sessionTtlMs);
    await expect(authenticate(sys.auth, token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await purgeExpiredSessions(sys.auth)).toBe(1);
    expect(await purgeExpiredSessions(sys.auth)).toBe(0);
  });

  it('logs out one session, or every session of the shopper', async () => {
    const sys = await fastSystem();
    const a = await login(sys.auth, sys.identity.codeFor('oCAROL'));
    const b = await login(sys.auth, sys.identity.codeFor('oCAROL'));
    const c = await login(sys.auth, sys.identity.codeFor('oCAROL'));
    await logout(sys.auth, a.token);
    await expect(authenticate(sys.auth, a.token)).rejects.toBeInstanceOf(AppError);
    const user = await authenticate(sys.auth, b.token);
    expect(await logoutEverywhere(sys.auth, user)).toBe(2);
    await expect(authenticate(sys.auth, c.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
