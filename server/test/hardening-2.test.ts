// Hardening, second round: each finding of the attack on the running server, as the attacker tried it.
// (Message pushes and shipments × reconciliation are in shipping.test.ts; the release bundle in
// e2e/weapp-build.test.ts; the sandbox in sandbox/safety.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { startTestSystem, type TestSystem } from './helpers';

/** GET from a given local address (Linux routes all of 127/8 to loopback): another client, as the server sees it. */
function getFrom(localAddress: string, url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}: ${body}`))));
      })
      .on('error', reject);
  });
}

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0', LIMIT_LOGIN_PER_MINUTE: '1000' } });
});
afterAll(() => sys.close());

const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(body).toString(),
});
/** Signs in to the ops page as the operator; returns the cookie pair and the whole Set-Cookie line. */
async function signIn(s: TestSystem, headers: Record<string, string> = {}) {
  const res = await fetch(`${s.api}/admin/login`, form({ token: s.adminToken }, headers));
  expect(res.status).toBe(303);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie };
}
const opsPage = (s: TestSystem, cookie: string, path = '/admin') =>
  fetch(`${s.api}${path}`, { headers: { Cookie: cookie }, redirect: 'manual' });

describe('2. the ops session', () => {
  it('is a random id per sign-in, and logging out ends it for good', async () => {
    const a = await signIn(sys);
    const b = await signIn(sys);
    expect(a.cookie).not.toBe(b.cookie);
    expect((await opsPage(sys, a.cookie)).status).toBe(200);
    const out = await fetch(`${sys.api}/admin/logout`, form({}, { Cookie: a.cookie }));
    expect(out.status).toBe(303);
    expect((await opsPage(sys, a.cookie)).status).toBe(303); // the old cookie opens nothing
    expect((await opsPage(sys, b.cookie)).status).toBe(200); // another sign-in is untouched
  });

  it('ends every session when the admin token changes', async () => {
    const before = await startTestSystem({ env: { ADMIN_TOKEN: 'a'.repeat(40) } });
    const dataDir = before.dataDir;
    const { cookie } = await signIn(before);
    expect((await opsPage(before, cookie)).status).toBe(200);
    await before.close();
    const after = await startTestSystem({ dataDir, env: { ADMIN_TOKEN: 'b'.repeat(40) } });
    try {
      expect((await opsPage(after, cookie)).status).toBe(303);
    } finally {
      await after.close();
    }
  });

  it('ends a session idle for an hour, and any session after eight', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const s = await startTestSystem({ system: { clock } });
    try {
      const idle = await signIn(s);
      offset += 61 * 60_000;
      expect((await opsPage(s, idle.cookie)).status).toBe(303);
      const busy = await signIn(s);
      for (let i = 0; i < 9; i++) {
        offset += 55 * 60_000; // never idle for an hour, but past eight hours in the end
        expect((await opsPage(s, busy.cookie)).status).toBe(i < 8 ? 200 : 303);
      }
    } finally {
      await s.close();
    }
  });

  it('shows only fixed messages in its banner, never text from the URL', async () => {
    const { cookie } = await signIn(sys);
    const page = await (await opsPage(sys, cookie, `/admin?msg=${encodeURIComponent('请立即转账到 6222 0000')}`)).text();
    expect(page).not.toContain('请立即转账');
    const done = await (await opsPage(sys, cookie, '/admin?done=reconciled&examined=3&paid=1')).text();
    expect(done).toContain('对账完成');
  });
});

describe('3. the Secure cookie', () => {
  it('is Secure wherever the configuration says the shop is served over https, whatever the request claims', async () => {
    const https = await startTestSystem({
      system: { serverEnv: { WECHATPAY_NOTIFY_URL: 'https://shop.example.com/api/wechatpay/notify' } },
    });
    try {
      expect((await signIn(https)).setCookie).toMatch(/;\s*Secure/i);
    } finally {
      await https.close();
    }
    // Here (http on this machine, no proxy trusted), a forged X-Forwarded-Proto changes nothing either way.
    expect((await signIn(sys, { 'X-Forwarded-Proto': 'https' })).setCookie).not.toMatch(/;\s*Secure/i);
  });

  it('follows X-Forwarded-Proto from a proxy TRUST_PROXY names', async () => {
    const proxied = await startTestSystem({ env: { TRUST_PROXY: 'loopback' } });
    try {
      expect((await signIn(proxied, { 'X-Forwarded-Proto': 'https' })).setCookie).toMatch(/;\s*Secure/i);
      expect((await signIn(proxied)).setCookie).not.toMatch(/;\s*Secure/i);
    } finally {
      await proxied.close();
    }
  });
});

describe('4. guessing the operator token', () => {
  it('answers the 10th wrong sign-in of a minute from one address with 429, and counts it', async () => {
    const s = await startTestSystem();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await fetch(`${s.api}/admin/login`, form({ token: `wrong-${i}` }))).status);
      expect(statuses.slice(0, 9)).toEqual(Array(9).fill(303));
      expect(statuses[9]).toBe(429);
      // The right token is refused too while the address is blocked: a guesser cannot tell.
      expect((await fetch(`${s.api}/admin/login`, form({ token: s.adminToken }))).status).toBe(429);
      // The block is this address's alone: the operator's scraper on another (127.0.0.2) still reads the metrics.
      expect((await fetch(`${s.api}/metrics`, { headers: { Authorization: `Bearer ${s.adminToken}` } })).status).toBe(429);
      const metrics = await getFrom('127.0.0.2', `${s.api}/metrics`, { Authorization: `Bearer ${s.adminToken}` });
      expect(metrics).toMatch(/admin_auth_failures_total\{kind="sign-in"\} 9\b/);
    } finally {
      await s.close();
    }
  });

  it('answers the 10th wrong admin bearer token of a minute from one address with 429', async () => {
    const s = await startTestSystem();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++)
        statuses.push((await fetch(`${s.api}/api/admin/orders`, { headers: { Authorization: `Bearer wrong-${i}` } })).status);
      expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401));
      expect(statuses[9]).toBe(429);
    } finally {
      await s.close();
    }
  });
});

describe('5. log floods around the guards', () => {
  it('writes no request line for junk on any spelling of the notify route', async () => {
    const before = sys.logs.filter((l) => l.includes('"request"')).length;
    for (const path of ['/api/wechatpay/notify', '/api/wechatpay/notify/', '/API/WECHATPAY/NOTIFY', '/api/WeChatPay/Notify/'])
      for (let i = 0; i < 20; i++)
        expect((await fetch(`${sys.api}${path}`, { method: 'POST', body: 'junk' })).status).toBeGreaterThanOrEqual(400);
    expect(sys.logs.filter((l) => l.includes('"request"')).length - before).toBe(0);
  });
});

describe('8. case-folded API paths', () => {
  it('answers /API/orders with the API headers, as /api/orders', async () => {
    const token = await sys.login();
    for (const path of ['/api/orders', '/API/orders', '/Api/Orders']) {
      const res = await fetch(`${sys.api}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(res.headers.get('content-security-policy'), path).toMatch(/default-src 'none'/);
    }
  });
});

describe('admin amounts', () => {
  it('says what an amount must be when it is not a whole number of fen', async () => {
    const { order } = await sys.paidOrder();
    for (const amount of [1.5, '100', null]) {
      const res = await sys.request('POST', `/api/admin/orders/${order.id}/refunds`, {
        body: { amount },
        headers: { Authorization: `Bearer ${sys.adminToken}` },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'amount', message: 'amount: whole fen, e.g. 100' });
    }
  });
});
