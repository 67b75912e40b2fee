// Issue 9's findings, each reproduced as an attacker, a flood or a failing MongoDB would meet it.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../src/domain/errors';
import { CONNECTION_OPTIONS } from '../src/storage/mongo';
import { mapError } from '../src/storage/mongo/errors';
import { figure } from './figures';
import { startTestSystem, tempDir, type TestSystem } from './helpers';
import { httpJson, startSystemProcess } from './system-process';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' } });
});
afterAll(() => sys.close());

const dirSize = (dir: string): number =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .reduce((n, e) => n + (e.isDirectory() ? dirSize(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);

describe('1. the notify route and strangers', () => {
  it('2,000 junk POSTs grow DATA_DIR by less than 1 MB and the log by a few lines (server in its own process)', async () => {
    const dataDir = tempDir('junk-');
    const server = await startSystemProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'info', RECONCILE_INTERVAL_SECONDS: '0' });
    try {
      const api = server.api;
      await httpJson('GET', `${api}/api/products`);
      const sizeBefore = dirSize(dataDir);
      const linesBefore = server.output().split('\n').length;
      const junk = (i: number) => ({
        method: 'POST',
        body: `junk-${i}-${'x'.repeat(200)}`,
        headers: {
          'Wechatpay-Serial': 'S'.repeat(4000),
          'Request-ID': 'R'.repeat(4000),
          'Wechatpay-Signature': 'x',
          'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
          'Wechatpay-Nonce': 'n',
        },
      });
      let sent = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (sent < 2000) {
            const i = sent++;
            await (await fetch(`${api}/api/wechatpay/notify`, junk(i))).arrayBuffer();
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 200)); // the last log lines reach the pipe
      const grown = dirSize(dataDir) - sizeBefore;
      const newLines = server
        .output()
        .split('\n')
        .slice(linesBefore)
        .filter((l) => l.trim());
      const rejectedLines = newLines.filter((l) => l.includes('notification rejected')).length;
      // The shop's latency during such a flood is a performance figure: `npm run bench` measures it
      // (the flood from a process of its own), never a timed test.
      figure(
        'junk-notifications',
        `2,000 junk notify POSTs (4 KB headers each, 8 at a time, server in its own process): DATA_DIR grew ${(grown / 1024).toFixed(0)} KB; ${newLines.length} log lines (${rejectedLines} "notification rejected")`,
        {
          grownBytes: grown,
          logLines: newLines.length,
        },
      );
      expect(grown).toBeLessThan(1024 * 1024);
      expect(newLines.length).toBeLessThanOrEqual(50);
    } finally {
      await server.stop();
    }
  });

  it('counts every refusal by reason, keeps only a sample, and truncates what it keeps', async () => {
    const before = sys.server.refusedNotifications().UNKNOWN_SERIAL ?? 0;
    const storedBefore = await sys.server.store.countRejectedNotifications();
    for (let i = 0; i < 12; i++) {
      await fetch(`${sys.api}/api/wechatpay/notify`, {
        method: 'POST',
        body: 'x',
        headers: {
          'Wechatpay-Serial': 'S'.repeat(500),
          'Wechatpay-Signature': 'x',
          'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
          'Wechatpay-Nonce': 'n',
        },
      });
    }
    expect((sys.server.refusedNotifications().UNKNOWN_SERIAL ?? 0) - before).toBe(12);
    const stored = (await sys.server.store.countRejectedNotifications()) - storedBefore;
    expect(stored).toBeLessThanOrEqual(5);
    expect(sys.logs.filter((l) => l.includes('notification rejected') && l.includes('UNKNOWN_SERIAL')).length).toBeLessThanOrEqual(5);
    const logged = sys.logs.find((l) => l.includes('notification rejected') && l.includes('UNKNOWN_SERIAL'))!;
    expect(JSON.parse(logged).serial.length).toBeLessThanOrEqual(65);
  });
});

describe('2. limits that cannot be walked around', () => {
  it('ignores X-Forwarded-For by default: rotating it does not escape the login limit', async () => {
    const own = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' }, system: { limits: { loginPerMinute: 5 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push(
          (await own.request('POST', '/api/auth/login', { body: { code: `bad-${i}` }, headers: { 'X-Forwarded-For': `198.51.100.${i}` } }))
            .status,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    } finally {
      await own.close();
    }
  });

  it('believes X-Forwarded-For only from the proxies TRUST_PROXY names', async () => {
    const own = await startTestSystem({
      env: { RECONCILE_INTERVAL_SECONDS: '0', TRUST_PROXY: 'loopback' },
      system: { limits: { loginPerMinute: 2 } },
    });
    try {
      const from = async (ip: string) =>
        (await own.request('POST', '/api/auth/login', { body: { code: 'bad' }, headers: { 'X-Forwarded-For': ip } })).status;
      expect([await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.1')]).toEqual([401, 401, 429]);
      expect(await from('198.51.100.2')).toBe(401); // another client behind the trusted proxy has its own budget
    } finally {
      await own.close();
    }
  });

  it('limits Retry and order reads per shopper', async () => {
    const own = await startTestSystem({
      env: { RECONCILE_INTERVAL_SECONDS: '0' },
      system: { limits: { retriesPerMinute: 3, readsPerMinute: 5 } },
    });
    try {
      const token = await own.login();
      const { order } = await own.checkout(token);
      const retries = [];
      for (let i = 0; i < 4; i++) retries.push((await own.request('POST', `/api/orders/${order.id}/payment`, { token })).status);
      expect(retries).toEqual([200, 200, 200, 429]);
      const reads = [];
      for (let i = 0; i < 6; i++) reads.push((await own.request('GET', `/api/orders/${order.id}`, { token })).status);
      expect(reads).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await own.close();
    }
  });
});

describe('4. code2Session answers are validated', () => {
  it('refuses an openid that is not a string, and stores nothing', async () => {
    // A WeChat (or a man in the middle) that answers with an operator object for the openid.
    const fake = http.createServer((_req, res) => res.end(JSON.stringify({ openid: { $ne: null }, session_key: `${'a'.repeat(22)}==` })));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const own = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' } });
    try {
      const { loadConfig } = await import('../src/config');
      const { startServer } = await import('../src/server');
      const { createLogger } = await import('../src/logger');
      const { credentialsOf } = await import('./helpers');
      const server = await startServer(
        loadConfig({
          ...credentialsOf(own.dataDir),
          WECHAT_API_BASE: base,
          PORT: '0',
          DATA_DIR: own.dataDir,
          RECONCILE_INTERVAL_SECONDS: '0',
        }),
        { logger: createLogger('silent') },
      );
      try {
        const res = await fetch(`${server.apiUrl}/api/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code: 'anything' }),
        });
        expect(res.status).toBe(502);
        expect((await res.json()).error.code).toBe('WECHAT_UNREACHABLE');
      } finally {
        await server.close();
      }
    } finally {
      await own.close();
      fake.close();
    }
  });
});

describe('6. at rest', () => {
  it('keeps DATA_DIR 0700 and its database files 0600', async () => {
    expect(fs.statSync(sys.dataDir).mode & 0o777).toBe(0o700);
    const files = fs.readdirSync(sys.dataDir).filter((f) => f.startsWith('checkout.sqlite'));
    expect(files).toContain('checkout.sqlite');
    for (const f of files) expect(fs.statSync(path.join(sys.dataDir, f)).mode & 0o777, f).toBe(0o600);
    for (const f of ['admin_token', 'data_key']) expect(fs.statSync(path.join(sys.dataDir, f)).mode & 0o777, f).toBe(0o600);
  });

  it('tightens a data folder created by hand with loose permissions', async () => {
    const dir = tempDir('loose-');
    fs.chmodSync(dir, 0o755);
    const own = await startTestSystem({ dataDir: dir, env: { RECONCILE_INTERVAL_SECONDS: '0' } });
    try {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await own.close();
    }
  });

  it('logs out everywhere, and purges expired sessions', async () => {
    const code = async () => (await sys.request('POST', `${sys.sandboxUrl}/sandbox/login`, { body: { user: 'everywhere' } })).body.code;
    const a = (await sys.request('POST', '/api/auth/login', { body: { code: await code() } })).body.token;
    const b = (await sys.request('POST', '/api/auth/login', { body: { code: await code() } })).body.token;
    expect((await sys.request('GET', '/api/orders', { token: b })).status).toBe(200);
    expect((await sys.request('POST', '/api/auth/logout-all', { token: a })).status).toBe(204);
    expect((await sys.request('GET', '/api/orders', { token: a })).status).toBe(401);
    expect((await sys.request('GET', '/api/orders', { token: b })).status).toBe(401);
    await sys.server.store.createSession({
      tokenHash: 'expired-session',
      userId: (await sys.server.store.upsertUser({ openid: 'oEXPIRED0001', unionid: null, sessionKey: 'v1:x', now: 1 })).id,
      expiresAt: 5,
    });
    expect(await sys.server.store.purgeExpiredSessions(Date.now())).toBeGreaterThanOrEqual(1);
    expect(await sys.server.store.findSession('expired-session')).toBeNull();
  });
});

describe('7. HTTP', () => {
  it('answers a body that is not JSON with 415, before reading it', async () => {
    for (const [type, body] of [
      ['text/plain', '{"code":"x"}'],
      ['application/x-www-form-urlencoded', 'code=x'],
    ] as const) {
      const res = await fetch(`${sys.api}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': type }, body });
      expect(res.status, type).toBe(415);
      expect((await res.json()).error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' });
    }
    const noType = await fetch(`${sys.api}/api/auth/login`, { method: 'POST', body: '{"code":"x"}' });
    expect(noType.status).toBe(415);
  });

  it('answers every notify-route error in WeChat shape; request logs carry the full path, never the query', async () => {
    const big = await fetch(`${sys.api}/api/wechatpay/notify?secret=1`, { method: 'POST', body: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ code: 'FAIL', message: 'body: too large' });
    await fetch(`${sys.api}/api/orders/ord_${'0'.repeat(32)}?token=secret-2`);
    const line = sys.logs.filter((l) => l.includes('"request"')).at(-1)!;
    expect(JSON.parse(line)).toMatchObject({ path: `/api/orders/ord_${'0'.repeat(32)}`, status: 401 });
    expect(sys.logs.join('')).not.toMatch(/secret=1|secret-2/);
  });
});

describe('8. the MongoDB adapter, without a server', () => {
  it('connects with majority, journaled writes and sanitized filters', () => {
    const o = CONNECTION_OPTIONS({});
    expect(o).toMatchObject({ sanitizeFilter: true, autoIndex: false, writeConcern: { w: 'majority', journal: true } });
    // What sanitizeFilter does to a value that arrives as an object: it can no longer act as an operator.
    expect(mongoose.sanitizeFilter({ openid: { $ne: null } })).toEqual({ openid: { $eq: { $ne: null } } });
  });

  it('maps network, failover and write-concern errors to StoreUnavailableError (503), keeps duplicate keys, passes the rest', () => {
    const unavailable = [
      Object.assign(new Error('x'), { name: 'MongoNetworkError' }),
      Object.assign(new Error('x'), { name: 'MongoNetworkTimeoutError' }),
      Object.assign(new Error('x'), { name: 'MongoWriteConcernError' }),
      Object.assign(new Error('not primary'), { name: 'MongoServerError', code: 10107 }),
      Object.assign(new Error('stepped down'), { name: 'MongoServerError', code: 189 }),
      Object.assign(new Error('interrupted'), { name: 'MongoServerError', code: 11602 }),
      Object.assign(new Error('x'), { name: 'MongoServerError', errorLabels: ['RetryableWriteError'] }),
      Object.assign(new Error('x'), { name: 'MongoBulkWriteError', writeConcernError: { code: 64 } }),
    ];
    for (const e of unavailable)
      expect(mapError(e), `${e.name} ${(e as { code?: number }).code ?? ''}`).toBeInstanceOf(StoreUnavailableError);
    // As the server words it: the collection and the index name the constraint.
    const e11000 = (collection: string, index: string) =>
      Object.assign(new Error(`E11000 duplicate key error collection: checkout.${collection} index: ${index} dup key: { x: "1" }`), {
        code: 11000,
      });
    expect(mapError(e11000('refunds', 'outRefundNo_1'))).toMatchObject({ index: 'out_refund_no' });
    expect(mapError(e11000('sessions', '_id_'))).toMatchObject({ index: 'token' });
    expect(mapError(e11000('orders', 'userId_1_idempotencyKey_1'))).toMatchObject({ index: 'idempotency_key' });
    expect(mapError(e11000('orders', '_id_'))).toMatchObject({ index: 'other' });
    const other = new Error('a bug');
    expect(mapError(other)).toBe(other);
  });
});

describe('7. the page', () => {
  it('serves a real favicon and the page under a nonce CSP', async () => {
    const dist = tempDir('h5-');
    fs.writeFileSync(
      path.join(dist, 'index.html'),
      '<!DOCTYPE html><html><head><title>t</title><script>document.documentElement.style.fontSize="20px"</script></head><body><script src="/js/app.js"></script></body></html>',
    );
    fs.mkdirSync(path.join(dist, 'js'));
    fs.writeFileSync(path.join(dist, 'js', 'app.js'), 'console.log(1)');
    const own = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' }, system: { clientDir: dist } });
    try {
      const icon = await fetch(`${own.api}/favicon.ico`);
      expect(icon.headers.get('content-type')).toBe('image/x-icon');
      const bytes = Buffer.from(await icon.arrayBuffer());
      expect(bytes.readUInt16LE(2)).toBe(1); // an ICO file, not the app's HTML
      const page = await fetch(`${own.api}/`);
      const csp = page.headers.get('content-security-policy')!;
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(csp).toMatch(/script-src 'self' 'nonce-/);
      expect(csp).toContain(`connect-src 'self' ${new URL(own.sandboxUrl).origin}`);
      expect(csp).toContain("frame-ancestors 'none'");
      const html = await page.text();
      expect(html).toContain(`<script nonce="${nonce}">window.__CHECKOUT_CONFIG__=`);
      // The build's own inline script (Taro's rem script) runs too; scripts with a src need no nonce.
      expect(html).toContain(`<script nonce="${nonce}">document.documentElement.style.fontSize`);
      expect(html).toContain('<script src="/js/app.js">');
      const again = (await fetch(`${own.api}/`)).headers.get('content-security-policy')!;
      expect(again).not.toBe(csp); // a fresh nonce every time
      const logsBefore = own.logs.length;
      await (await fetch(`${own.api}/js/app.js`)).text();
      expect(own.logs.slice(logsBefore).some((l) => l.includes('/js/app.js'))).toBe(false); // static files are not logged
    } finally {
      await own.close();
    }
  });
});
