// The system in a child process, reached only over HTTP (node:http, whatever the test environment's
// fetch is). Used by the client component tests and the browser end-to-end tests.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { tempDir } from './helpers';
import { checkAgainstOpenApi } from './openapi-check';

export interface SystemProcess {
  api: string;
  sandbox: string;
  /** The process's DATA_DIR (its SQLite file, the sandbox's keys). */
  dataDir: string;
  /** The operator's token (ADMIN_TOKEN). */
  adminToken: string;
  http(
    method: string,
    url: string,
    opts?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  controls(patch: Record<string, unknown>): Promise<void>;
  /** A call to /api/admin with the operator's token. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  login(user?: string): Promise<string>;
  checkout(token: string, items?: { sku: string; quantity: number }[]): Promise<{ order: any; payment: any }>;
  pay(payment: object, outcome?: 'success' | 'cancel' | 'fail'): Promise<{ errMsg: string }>;
  /** A shopper's order, paid through the sandbox and PAID on the server; with the shopper's token. */
  paidOrder(user?: string): Promise<{ order: any; token: string }>;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export function httpJson(method: string, url: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; body: any; contentType: string | null }>((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string | number> = { ...opts.headers };
    if (body) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, contentType: res.headers['content-type'] ?? null });
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

export async function startSystemProcess(env: Record<string, string> = {}): Promise<SystemProcess> {
  const root = path.resolve(__dirname, '../..');
  const dataDir = env.DATA_DIR ?? tempDir('system-');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serve-for-tests.ts')], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = await new Promise<{ api: string; sandbox: string; adminToken: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`system did not start:\n${output}`)), 30_000);
    child.stdout.on('data', (d) => {
      output += d;
      const m = /READY (\{.*\})/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]!));
      }
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`system exited with ${code}:\n${output}`));
    });
  });
  // Answers from the API are checked against the OpenAPI document as they arrive.
  const checked = async (method: string, url: string, opts?: Parameters<typeof httpJson>[2]) => {
    const r = await httpJson(method, url, opts);
    if (url.startsWith(ready.api)) checkAgainstOpenApi(method, url, r.status, r.body, r.contentType);
    return r;
  };
  const sys: SystemProcess = {
    api: ready.api,
    sandbox: ready.sandbox,
    dataDir,
    adminToken: ready.adminToken,
    http: (method, url, opts) => checked(method, url.startsWith('http') ? url : `${ready.api}${url}`, opts),
    admin: (method, p, body) =>
      checked(method, `${ready.api}/api/admin${p}`, { body, headers: { Authorization: `Bearer ${ready.adminToken}` } }),
    async controls(patch) {
      const r = await httpJson('POST', `${ready.sandbox}/sandbox/controls`, { body: patch });
      if (r.status !== 200) throw new Error(`controls: ${JSON.stringify(r.body)}`);
    },
    async login(user) {
      const code = (await httpJson('POST', `${ready.sandbox}/sandbox/login`, { body: user ? { user } : {} })).body.code;
      const res = await httpJson('POST', `${ready.api}/api/auth/login`, { body: { code } });
      if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async checkout(token, items = [{ sku: 'MUG-CERAMIC', quantity: 1 }]) {
      const res = await httpJson('POST', `${ready.api}/api/orders`, { token, body: { items } });
      if (res.status !== 201) throw new Error(`checkout failed: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async pay(payment, outcome = 'success') {
      return (await httpJson('POST', `${ready.sandbox}/sandbox/pay`, { body: { ...payment, outcome } })).body;
    },
    async paidOrder(user) {
      const token = await sys.login(user);
      const { order, payment } = await sys.checkout(token);
      await sys.pay(payment, 'success');
      for (let i = 0; i < 250; i++) {
        if ((await sys.http('GET', `/api/orders/${order.id}`, { token })).body.order.status === 'PAID') return { order, token };
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`order ${order.id} was not PAID within 5 s`);
    },
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return sys;
}
