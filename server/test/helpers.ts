// Boots the real system for a test: SQLite in a temporary folder, the API and the sandbox
// in-process on port 0, real HTTP between them. Logs are captured for assertions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { freePort, launchSandboxed, type SandboxedOptions } from '../../scripts/launch';
import type { Sandbox } from '../../sandbox/app';
import type { CheckoutResponse, LoginResponse } from '../src/http/schemas';
import { createLogger } from '../src/logger';
import type { Server, ServerOptions } from '../src/server';

export { freePort };

export interface TestSystem {
  server: Server;
  sandbox: Sandbox;
  api: string;
  sandboxUrl: string;
  logs: string[];
  dataDir: string;
  request(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  login(user?: string): Promise<string>;
  checkout(token: string, items?: { sku: string; quantity: number }[], key?: string): Promise<CheckoutResponse>;
  pay(payment: CheckoutResponse['payment'], outcome?: 'success' | 'cancel' | 'fail'): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'checkout-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export type TestSystemOptions = SandboxedOptions & Partial<Pick<ServerOptions, 'store' | 'limits' | 'clientDir'>>;

/** The sandbox and the server started as `npm start` starts them (scripts/launch.ts), on free ports. */
export async function startTestSystem(opts: { env?: Record<string, string>; system?: TestSystemOptions; dataDir?: string } = {}): Promise<TestSystem> {
  const dataDir = opts.dataDir ?? tempDir();
  const env = { PORT: '0', SANDBOX_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'debug', ...opts.env };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const launched = await launchSandboxed(env, { logger: createLogger('debug', sink), ...opts.system });
  const api = launched.server.apiUrl;
  const sandboxUrl = launched.sandbox.url;

  async function request(method: string, p: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const res = await fetch(`${p.startsWith('http') ? '' : api}${p}`, {
      method,
      headers: {
        ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
        ...o.headers,
      },
      body: o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // leave as text
    }
    return { status: res.status, body: body as any, headers: res.headers };
  }

  async function login(user?: string) {
    const code = await request('POST', `${sandboxUrl}/sandbox/login`, { body: user ? { user } : {} });
    const res = await request('POST', '/api/auth/login', { body: { code: code.body.code } });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as LoginResponse).token;
  }

  async function checkout(token: string, items = [{ sku: 'MUG-CERAMIC', quantity: 1 }], key?: string) {
    const res = await request('POST', '/api/orders', { token, body: { items }, headers: key ? { 'Idempotency-Key': key } : {} });
    if (res.status !== 201 && res.status !== 200) throw new Error(`checkout failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as CheckoutResponse;
  }

  async function pay(payment: CheckoutResponse['payment'], outcome: 'success' | 'cancel' | 'fail' = 'success') {
    return request('POST', `${sandboxUrl}/sandbox/pay`, { body: { ...payment, outcome } });
  }

  return {
    server: launched.server,
    sandbox: launched.sandbox.sandbox,
    api,
    sandboxUrl,
    logs,
    dataDir,
    request,
    login,
    checkout,
    pay,
    close: () => launched.close(),
  };
}

/** Polls until `check` returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
