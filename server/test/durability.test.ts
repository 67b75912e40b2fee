// What group commit must never give up, and what one process per core must keep: a notification
// answered 2xx is on disk, whatever happens next; a limit holds across worker processes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandboxFor } from '../../scripts/launch';
import { ensureSandboxKeys } from '../../sandbox/keys';
import { buildNotification } from '../../sandbox/notify';
import { createSqliteStore } from '../src/storage/sqlite';
import { figure } from './figures';
import { freePort, tempDir } from './helpers';
import { httpJson } from './system-process';

const root = path.resolve(__dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(script: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}:\n${out}`)));
  });
}

describe('durability under group commit', () => {
  it('a kill -9 in the middle of a notification burst loses nothing that was answered 2xx', async () => {
    const dataDir = tempDir('burst-');
    const apiPort = await freePort();
    const { sandbox, serverEnv } = await startSandboxFor({ ...process.env, DATA_DIR: dataDir, PORT: String(apiPort), SANDBOX_PORT: '0' });
    try {
      const env = { ...serverEnv, SERVE_CLIENT: 'off', RECONCILE_INTERVAL_SECONDS: '0' };
      const server = await start('server/test/serve-for-tests.ts', env, /READY/);
      const api = `http://127.0.0.1:${apiPort}`;
      const shopper = async (name: string) => {
        const code = (await httpJson('POST', `${sandbox.url}/sandbox/login`, { body: { user: name } })).body.code;
        return (await httpJson('POST', `${api}/api/auth/login`, { body: { code } })).body.token as string;
      };
      const orders: { id: string; outTradeNo: string; total: number }[] = [];
      let token = '';
      for (let i = 0; i < 150; i++) {
        if (i % 50 === 0) token = await shopper(`burst-${i}`); // within each shopper's order limit
        const r = await httpJson('POST', `${api}/api/orders`, {
          token,
          body: { items: [{ sku: 'STICKER-PACK', quantity: (i % 99) + 1 }] },
        });
        expect(r.status).toBe(201);
        orders.push(r.body.order);
      }
      const keys = ensureSandboxKeys(dataDir);
      const deliveries = orders.map((o, i) =>
        buildNotification({
          apiV3Key: keys.apiV3Key,
          signer: sandbox.sandbox.signer(),
          transaction: {
            appid: keys.appid,
            mchid: keys.mchid,
            out_trade_no: o.outTradeNo,
            transaction_id: `42000000002026113000${String(i).padStart(8, '0')}`,
            trade_state: 'SUCCESS',
            amount: { total: o.total, currency: 'CNY' },
          },
        }),
      );
      // 64 at a time; the server is killed once 60 have been answered.
      const answered: number[] = [];
      let next = 0;
      let killed = false;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < deliveries.length) {
            const i = next++;
            const d = deliveries[i]!;
            try {
              const res = await fetch(`${api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
              await res.arrayBuffer();
              if (res.status >= 200 && res.status < 300) answered.push(i);
            } catch {
              // no answer: the server was gone
            }
            if (!killed && answered.length >= 60) {
              killed = true;
              server.child.kill('SIGKILL');
            }
          }
        }),
      );
      expect(killed).toBe(true);
      if (server.child.exitCode === null && server.child.signalCode === null) await new Promise((r) => server.child.once('exit', r));
      // A restart: the store opened again from the same file.
      const store = createSqliteStore({ filename: path.join(dataDir, 'checkout.sqlite') });
      try {
        let paid = 0;
        for (const i of answered) {
          const o = orders[i]!;
          expect((await store.findOrder(o.id))?.status, `order ${i} was answered 2xx`).toBe('PAID');
          expect(await store.findNotification(JSON.parse(deliveries[i]!.body).id, o.outTradeNo), `notification ${i}`).toMatchObject({
            outcome: 'APPLIED',
          });
          paid += 1;
        }
        figure(
          'kill-9-burst',
          `150 notifications 64 at a time, server SIGKILLed after 60 answers: ${answered.length} answered 2xx, ${paid} of them PAID and recorded after restart (0 lost)`,
          { answered: answered.length, paid },
        );
        expect(paid).toBe(answered.length);
      } finally {
        await store.close();
      }
    } finally {
      await sandbox.close();
    }
  });
});

describe('one process per core', () => {
  it('serves from several workers on one port, with the login limit held across them', async () => {
    const dataDir = tempDir('cluster-');
    const apiPort = await freePort();
    const { sandbox, serverEnv } = await startSandboxFor({ ...process.env, DATA_DIR: dataDir, PORT: String(apiPort), SANDBOX_PORT: '0' });
    try {
      const c = await start(
        'server/src/cluster.ts',
        { ...serverEnv, SERVE_CLIENT: 'off', WORKERS: '2', RECONCILE_INTERVAL_SECONDS: '0' },
        /(^API [\s\S]*){2}/m,
      ); // both workers' banners (the WeChat line says "API v3" too)
      expect(c.output().match(/^API /gm)).toHaveLength(2);
      const statuses: number[] = [];
      for (let i = 0; i < 33; i++)
        statuses.push((await httpJson('POST', `http://127.0.0.1:${apiPort}/api/auth/login`, { body: { code: 'bad' } })).status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(30);
      expect(statuses.slice(30)).toEqual([429, 429, 429]);
      c.child.kill('SIGTERM');
      await new Promise((r) => c.child.once('exit', r));
    } finally {
      await sandbox.close();
    }
  });
});
