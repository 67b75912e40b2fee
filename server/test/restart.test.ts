// The server process is killed (SIGKILL) between payment and notification, then started again:
// the order must end paid, from WeChat's retried notification or from reconciliation.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import util from 'node:util';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { figure } from './figures';
import { freePort, tempDir, waitFor } from './helpers';
import { httpJson } from './system-process';

const root = path.resolve(__dirname, '../..');
const children: ChildProcess[] = [];

function start(script: string, env: Record<string, string>): Promise<ChildProcess> {
  // `node --import tsx`: one process, so SIGKILL kills the server itself, not a wrapper.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('READY')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}:\n${out}`)));
  });
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('a server killed between payment and notification', () => {
  it('ends with the order paid after a restart', async () => {
    const dataDir = tempDir('restart-');
    const [apiPort, sandboxPort] = [await freePort(), await freePort()];
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const api = `http://127.0.0.1:${apiPort}`;
    // WeChat's schedule at 1/100 speed: 150 ms, 150 ms, 300 ms, 1.8 s, 6 s …
    await start('sandbox/main.ts', {
      DATA_DIR: dataDir,
      SANDBOX_PORT: String(sandboxPort),
      PORT: String(apiPort),
      SANDBOX_TIME_SCALE: '0.01',
    });
    // The server gets the sandbox's credentials as it would get live ones: from the env file.
    const credentials: Record<string, string> = {
      ...(util.parseEnv(fs.readFileSync(path.join(dataDir, 'sandbox', 'sandbox.env'), 'utf8')) as Record<string, string>),
      DATA_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
    };
    expect(credentials.SANDBOX_URL).toBe(sandboxUrl);
    const serverEnv = {
      ...credentials,
      DATA_DIR: dataDir,
      PORT: String(apiPort),
      RECONCILE_INTERVAL_SECONDS: '2',
      RECONCILE_MIN_AGE_SECONDS: '1',
    };
    let server = await start('server/test/serve-for-tests.ts', serverEnv);

    const code = (await httpJson('POST', `${sandboxUrl}/sandbox/login`, { body: { user: 'restart' } })).body.code;
    const token = (await httpJson('POST', `${api}/api/auth/login`, { body: { code } })).body.token;
    const created = await httpJson('POST', `${api}/api/orders`, { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] } });
    expect(created.status).toBe(201);

    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    expect(
      (await httpJson('POST', `${sandboxUrl}/sandbox/pay`, { body: { ...created.body.payment, outcome: 'success' } })).body.errMsg,
    ).toBe('requestPayment:ok');
    await new Promise((r) => setTimeout(r, 400)); // the first deliveries find nobody listening

    const restarted = performance.now();
    server = await start('server/test/serve-for-tests.ts', serverEnv);
    const order = await waitFor(
      async () => {
        const r = await httpJson('GET', `${api}/api/orders/${created.body.order.id}`, { token });
        return r.body.order?.status === 'PAID' ? r.body.order : null;
      },
      20_000,
      50,
    );
    const ms = performance.now() - restarted;
    const deliveries = (await httpJson('GET', `${sandboxUrl}/sandbox/deliveries`)).body.deliveries as { status: number | string }[];
    const refused = deliveries.filter((d) => d.status === 'error').length;
    figure(
      'process-restart',
      `server SIGKILLed after order creation, payment made while it was down (${refused} deliveries refused) → PAID ${ms.toFixed(0)} ms after restart`,
      { refused, msAfterRestart: Math.round(ms) },
    );
    expect(order.transactionId).toMatch(/^\d{28}$/);
    expect(refused).toBeGreaterThan(0);
  });
});
