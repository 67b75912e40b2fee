// The sandbox fakes payment, so it must never be reachable by strangers: its payer and control
// endpoints answer this machine only, with no CORS wildcard, and it refuses to start on a public
// interface or in production without the documented opt-in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from './app';
import { loadSandboxConfig } from './config';
import { generateSandboxKeys } from './keys';
import { isLoopbackAddress, isLoopbackOrigin } from './payer';

let sandbox: Sandbox;
let local: http.Server;
let remote: http.Server;
const urls = { local: '', remote: '' };

beforeAll(async () => {
  sandbox = createSandbox({ keys: generateSandboxKeys(), allowHttpNotifyUrl: true });
  local = http.createServer(sandbox.app).listen(0, '127.0.0.1');
  // The same app as a peer on another machine sees it: the peer address is the only difference.
  remote = http
    .createServer((req, res) => {
      Object.defineProperty(req.socket, 'remoteAddress', { value: '203.0.113.9', configurable: true });
      sandbox.app(req, res);
    })
    .listen(0, '127.0.0.1');
  await Promise.all([local, remote].map((s) => new Promise((r) => s.once('listening', r))));
  urls.local = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
  urls.remote = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
});
afterAll(() => {
  sandbox.stop();
  local.close();
  remote.close();
});

describe('the payer and control endpoints', () => {
  it('answer this machine and refuse any other peer', async () => {
    for (const [method, path, body] of [
      ['POST', '/sandbox/login', '{}'],
      ['POST', '/sandbox/pay', '{}'],
      ['GET', '/sandbox/controls', undefined],
      ['POST', '/sandbox/controls', '{"dropNotifications":true}'],
      ['GET', '/sandbox/deliveries', undefined],
    ] as const) {
      const init = { method, body, headers: { 'Content-Type': 'application/json' } };
      const far = await fetch(`${urls.remote}${path}`, init);
      expect(far.status, `${method} ${path} from afar`).toBe(403);
      expect((await far.json()).errMsg).toMatch(/this machine only/);
      const near = await fetch(`${urls.local}${path}`, init);
      expect(near.status, `${method} ${path} from here`).not.toBe(403);
    }
    expect(sandbox.controls.dropNotifications).toBe(Number.POSITIVE_INFINITY); // only the local call changed it
  });

  it('refuse a Host or an Origin that is not this machine, as a DNS-rebinding page would send', async () => {
    // Node's fetch will not send a forged Host: a raw request does, from loopback, as the rebound browser would.
    const send = (path: string, headers: Record<string, string>, body = '{}') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          `${urls.local}${path}`,
          { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode!, body: text }));
          },
        );
        req.on('error', reject).end(body);
      });
    const before = sandbox.controls.duplicateNotifications;
    const rebound = { Host: 'rebind.attacker.example', Origin: 'http://rebind.attacker.example' };
    for (const path of ['/sandbox/login', '/sandbox/controls', '/sandbox/pay']) {
      const r = await send(path, rebound, '{"duplicateNotifications":7}');
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body).errMsg, path).toMatch(/this machine only/);
    }
    // A loopback Host with a foreign Origin: a page elsewhere posting here. Also refused.
    expect((await send('/sandbox/controls', { Origin: 'https://evil.example' }, '{"duplicateNotifications":7}')).status).toBe(403);
    expect((await send('/sandbox/login', { Host: 'localhost:1', Origin: 'null' })).status).toBe(403);
    expect(sandbox.controls.duplicateNotifications).toBe(before); // nothing changed
    // This machine by any of its names, with or without an Origin of its own, is answered.
    const here: Record<string, string>[] = [
      { Host: 'localhost:8080' },
      { Host: '127.0.0.1' },
      { Host: '[::1]:9', Origin: 'http://localhost:10086' },
    ];
    for (const headers of here) expect((await send('/sandbox/login', headers)).status, JSON.stringify(headers)).toBe(200);
  });

  it('allow cross-origin calls from pages on this machine only, never with a wildcard', async () => {
    const ask = (origin: string) =>
      fetch(`${urls.local}/sandbox/login`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
    const shop = await ask('http://127.0.0.1:3000');
    expect(shop.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null']) {
      expect((await ask(origin)).headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('know which addresses and origins are this machine', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', '203.0.113.9', '::ffff:192.168.1.2', '', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
    for (const o of ['http://localhost:3000', 'http://127.0.0.1', 'http://[::1]:10086']) expect(isLoopbackOrigin(o), o).toBe(true);
    for (const o of ['http://localhost.evil.example', 'https://shop.example.com', 'http://127.0.0.1:3000/path'])
      expect(isLoopbackOrigin(o), o).toBe(false);
  });

  it('accept only known controls with valid values', async () => {
    const post = async (body: unknown) => {
      const r = await fetch(`${urls.local}/sandbox/controls`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: await r.json() };
    };
    expect(await post({ toString: 1 })).toMatchObject({ status: 400, body: { errMsg: 'unknown control toString' } });
    expect((await post(JSON.parse('{"__proto__":{"timeScale":0}}'))).status).toBe(400);
    expect(await post({ timeScale: -1 })).toMatchObject({ status: 400, body: { errMsg: expect.stringMatching(/^timeScale:/) } });
    expect(await post({ failPrepay: { status: 200, code: 'X', message: 'y', times: 1 } })).toMatchObject({ status: 400 });
    expect(await post({ signWith: 'nothing' })).toMatchObject({ status: 400 });
    expect(sandbox.controls.timeScale).toBe(1);
    expect(await post({ dropNotifications: false, timeScale: 0.5 })).toMatchObject({
      status: 200,
      body: { dropNotifications: 0, timeScale: 0.5 },
    });
  });
});

describe('where the sandbox may start', () => {
  it('refuses a public interface or production unless UNSAFE_ALLOW_SANDBOX is set, then warns', () => {
    expect(() => loadSandboxConfig({ HOST: '0.0.0.0' })).toThrow(/HOST=0\.0\.0\.0 is not a loopback address/);
    expect(() => loadSandboxConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production/);
    expect(loadSandboxConfig({}).warnings).toEqual([]);
    expect(loadSandboxConfig({ HOST: '0.0.0.0', UNSAFE_ALLOW_SANDBOX: 'true' }).warnings[0]).toMatch(
      /anyone who reaches this server or the sandbox can pay any order/,
    );
  });

  it('validates every variable it reads', () => {
    expect(() => loadSandboxConfig({ SANDBOX_TIME_SCALE: '0' })).toThrow(/SANDBOX_TIME_SCALE/);
    expect(() => loadSandboxConfig({ SANDBOX_PORT: '70000' })).toThrow(/SANDBOX_PORT/);
    expect(loadSandboxConfig({ SANDBOX_TIME_SCALE: '0.01', SANDBOX_PORT: '0' })).toMatchObject({
      timeScale: 0.01,
      port: 0,
      host: '127.0.0.1',
      dataDir: './data',
    });
  });
});
