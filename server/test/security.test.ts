// Abuse refused: limits, sizes, headers, sessions, and no secret in any response or log line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxKeys } from '../../sandbox/keys';
import fs from 'node:fs';
import path from 'node:path';
import { parseDataKey } from '../src/config';
import { createSecretBox } from '../src/secret-box';
import { credentialsOf, startTestSystem, type TestSystem } from './helpers';

let offset = 0;
const clock = { now: () => Date.now() + offset };
let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({
    env: { SESSION_TTL_HOURS: '1', RECONCILE_INTERVAL_SECONDS: '0' },
    system: { clock, limits: { loginPerMinute: 10, ordersPerMinute: 5 } },
  });
});
afterAll(() => sys.close());

describe('abuse resistance', () => {
  it('rate-limits login attempts per client with 429, Retry-After and RateLimit headers', async () => {
    // Its own system: this exhausts the loopback client's login budget for a minute.
    const own = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' }, system: { limits: { loginPerMinute: 10 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await own.request('POST', '/api/auth/login', { body: { code: `bad-${i}` } })).status);
      expect(statuses.every((s) => s === 401)).toBe(true);
      const limited = await own.request('POST', '/api/auth/login', { body: { code: 'x' } });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('RATE_LIMITED');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers.get('ratelimit-limit')).toBe('10');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    } finally {
      await own.close();
    }
  });

  it('rate-limits order creation', async () => {
    offset += 61_000;
    const token = await sys.login();
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await sys.request('POST', '/api/orders', { token, body: { items: [] } })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429]);
    // The limit is the shopper's, not the address's: another shopper on the same address is not locked out.
    const other = await sys.login();
    expect((await sys.request('POST', '/api/orders', { token: other, body: { items: [] } })).status).toBe(400);
  });

  it('refuses bodies over the limit with 413', async () => {
    offset += 61_000;
    const big = { code: 'x'.repeat(20_000) };
    const res = await sys.request('POST', '/api/auth/login', { body: big });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const notify = await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: 'x'.repeat(70_000) });
    expect(notify.status).toBe(413);
    expect(await notify.json()).toMatchObject({ code: 'FAIL' });
  });

  it('sends security headers and no X-Powered-By', async () => {
    const res = await fetch(`${sys.api}/api/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it("gives API answers the headers that protect data, and pages helmet's whole set", async () => {
    const DATA = [
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
      'cross-origin-resource-policy',
      'referrer-policy',
    ];
    const DOCUMENT_ONLY = [
      'cross-origin-opener-policy',
      'origin-agent-cluster',
      'x-dns-prefetch-control',
      'x-download-options',
      'x-xss-protection',
    ];
    for (const path of ['/api/health', '/API/health', '/api/products?x=1', '/api/no-such-route']) {
      const res = await fetch(`${sys.api}${path}`);
      for (const h of [...DATA, 'cache-control', 'content-security-policy']) expect(res.headers.get(h), `${path} ${h}`).not.toBeNull();
      for (const h of DOCUMENT_ONLY) expect(res.headers.get(h), `${path} ${h}`).toBeNull();
    }
    // Pages — the API's own docs page included — carry helmet's document headers too.
    for (const path of ['/api/docs', '/admin/login']) {
      const res = await fetch(`${sys.api}${path}`);
      for (const h of [...DATA, ...DOCUMENT_ONLY]) expect(res.headers.get(h), `${path} ${h}`).not.toBeNull();
    }
  });

  it('expires sessions after their lifetime, and logout ends one at once', async () => {
    offset += 61_000;
    const token = await sys.login();
    expect((await sys.request('GET', '/api/orders', { token })).status).toBe(200);
    offset += 3600_000 + 1000;
    const expired = await sys.request('GET', '/api/orders', { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('UNAUTHENTICATED');
    const fresh = await sys.login();
    expect((await sys.request('POST', '/api/auth/logout', { token: fresh })).status).toBe(204);
    expect((await sys.request('GET', '/api/orders', { token: fresh })).status).toBe(401);
  });

  it('puts no secret, token or session_key in any response or log line', async () => {
    offset += 61_000;
    const keys = ensureSandboxKeys(sys.dataDir);
    const responses: string[] = [];
    const code = (await sys.request('POST', `${sys.sandboxUrl}/sandbox/login`, { body: { user: 'secret-check' } })).body.code;
    const login = await sys.request('POST', '/api/auth/login', { body: { code } });
    responses.push(JSON.stringify(login.body));
    const token = login.body.token as string;
    const created = await sys.request('POST', '/api/orders', { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] } });
    responses.push(JSON.stringify(created.body));
    await sys.pay(created.body.payment);
    responses.push(JSON.stringify((await sys.request('GET', `/api/orders/${created.body.order.id}`, { token })).body));
    responses.push(JSON.stringify((await sys.request('GET', '/api/orders', { token })).body));
    await sys.sandbox.idle();

    const user = (await sys.server.store.findUserById(login.body.user.id))!;
    // Stored sealed: the real session_key WeChat issued opens only with the data key.
    expect(user.sessionKey).toMatch(/^v1:/);
    const sessionKey = createSecretBox(parseDataKey(credentialsOf(sys.dataDir).DATA_ENCRYPTION_KEY!)!, 'session_key').open(user.sessionKey);
    expect(sessionKey).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    // A copied database file reveals nothing: the session_key is nowhere in it, in the clear.
    const files = fs.readdirSync(sys.dataDir).filter((f) => f.startsWith('checkout.sqlite'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(fs.readFileSync(path.join(sys.dataDir, f)).includes(Buffer.from(sessionKey)), f).toBe(false);
    const secrets = {
      session_key: sessionKey,
      sealed_session_key: user.sessionKey,
      appSecret: keys.appSecret,
      apiV3Key: keys.apiV3Key,
      merchantPrivateKey: keys.merchantPrivateKeyPem.split('\n')[5]!,
      platformPrivateKey: keys.platformPrivateKeyPem.split('\n')[5]!,
      token,
    };
    const logText = sys.logs.join('');
    expect(sys.logs.length).toBeGreaterThan(10);
    for (const [name, value] of Object.entries(secrets)) {
      expect(logText.includes(value), `${name} in logs`).toBe(false);
      if (name !== 'token') for (const r of responses) expect(r.includes(value), `${name} in a response`).toBe(false);
    }
    expect(logText).not.toMatch(/session_?key/i);
    expect(responses.join('')).not.toMatch(/session_?key|openid/i);
    expect(logText).not.toContain(`secret=${keys.appSecret}`);
  });
});
