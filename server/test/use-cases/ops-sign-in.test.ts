// Fast tier: the operator's sessions on the ops page — signing in, each request's check, signing out,
// the purge — over the in-memory store and a test clock.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkOpsSession, closeOpsSession, openOpsSession, purgeOpsSessions, type OpsSessionDeps } from '../../src/domain/ops-sign-in';
import { createMemoryStore } from '../support/memory-store';
import { testClock } from '../support/fakes';

function deps(adminToken = 't'.repeat(40)) {
  const store = createMemoryStore();
  const clock = testClock();
  const d: OpsSessionDeps = {
    store,
    now: () => clock.now(),
    adminToken,
    fingerprint: (token) => crypto.createHmac('sha256', 'key').update(token).digest('hex'),
  };
  return { d, clock, store };
}

describe("the operator's sessions", () => {
  it('opens a fresh random session only for the admin token', async () => {
    const { d } = deps();
    expect(await openOpsSession(d, 'wrong')).toBeNull();
    expect(await openOpsSession(d, '')).toBeNull();
    const a = await openOpsSession(d, d.adminToken);
    const b = await openOpsSession(d, d.adminToken);
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(b).not.toBe(a);
    expect(await checkOpsSession(d, a!)).toBe(true);
    expect(await checkOpsSession(d, 'x'.repeat(43))).toBe(false);
    expect(await checkOpsSession(d, 'not an id')).toBe(false);
  });

  it('ends a session at logout, after an hour idle, after eight hours, or when the token changes', async () => {
    const { d, clock } = deps();
    const out = (await openOpsSession(d, d.adminToken))!;
    await closeOpsSession(d, out);
    expect(await checkOpsSession(d, out)).toBe(false);

    const idle = (await openOpsSession(d, d.adminToken))!;
    clock.advance(59 * 60_000);
    expect(await checkOpsSession(d, idle)).toBe(true); // used: idle time starts again
    clock.advance(59 * 60_000);
    expect(await checkOpsSession(d, idle)).toBe(true);
    clock.advance(60 * 60_000);
    expect(await checkOpsSession(d, idle)).toBe(false);

    const busy = (await openOpsSession(d, d.adminToken))!;
    for (let i = 0; i < 8; i++) {
      clock.advance(59 * 60_000); // never idle for an hour: 472 minutes in all
      expect(await checkOpsSession(d, busy)).toBe(true);
    }
    clock.advance(9 * 60_000); // 481 minutes since sign-in
    expect(await checkOpsSession(d, busy)).toBe(false);

    const old = (await openOpsSession(d, d.adminToken))!;
    expect(await checkOpsSession({ ...d, adminToken: 'n'.repeat(40) }, old)).toBe(false);
    expect(await checkOpsSession(d, old)).toBe(false); // deleted when found dead, whatever the token now
  });

  it('purges sessions past their lifetime or idle too long, and only those', async () => {
    const { d, clock } = deps();
    await openOpsSession(d, d.adminToken);
    clock.advance(30 * 60_000);
    const fresh = (await openOpsSession(d, d.adminToken))!;
    clock.advance(31 * 60_000);
    expect(await purgeOpsSessions(d)).toBe(1);
    expect(await checkOpsSession(d, fresh)).toBe(true);
    expect(await purgeOpsSessions(d)).toBe(0);
  });
});
