// `npm run reconcile` from cron: wired as the server is, so it does what the server's own loop does
// (here: send again a shipment WeChat could not take), and never runs on credentials it was not given.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, tempDir, type TestSystem } from './helpers';

const root = path.resolve(__dirname, '../..');

/** `npm run reconcile -- <args>` in its own process, with `env` on top of a clean environment. */
function reconcileCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(WECHAT|WECHATPAY|SANDBOX|DATA_|ADMIN|MONGODB)/.test(k)));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/reconcile.ts'), ...args], {
      cwd: root,
      env: { ...clean, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' } });
});
afterAll(() => sys.close());

describe('npm run reconcile', () => {
  it('refuses to run without credentials, even where a sandbox has left its own, and says how to choose', async () => {
    const r = await reconcileCommand([], { DATA_DIR: sys.dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/No WeChat credentials in the environment/);
    expect(r.stderr).toMatch(/--sandbox/);
    const missing = await reconcileCommand(['--sandbox'], { DATA_DIR: tempDir('no-sandbox-') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/sandbox\.env does not exist; run `npm start` first/);
    expect((await reconcileCommand(['--bogus'], { DATA_DIR: sys.dataDir })).stderr).toMatch(/^usage: npm run reconcile/);
  });

  it("--bill DATE reconciles that day's books against the sandbox's bill, and says why it cannot", async () => {
    await sys.paidOrder();
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { billsReadyNow: false } });
    const early = await reconcileCommand(['--sandbox', '--bill', today], { DATA_DIR: sys.dataDir });
    expect(early.code).toBe(3);
    expect(early.stderr).toMatch(/still writing the bill/);
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { billsReadyNow: true } });
    const r = await reconcileCommand(['--sandbox', '--bill', today], { DATA_DIR: sys.dataDir });
    expect(r.stdout).toMatch(new RegExp(`^books of ${today}: BALANCED; \\d+ bill lines, \\d+ matched, 0 discrepancies`, 'm'));
    expect(r.code).toBe(0);
    expect((await sys.request('GET', `/api/admin/books/${today}`, { headers: { Authorization: `Bearer ${sys.adminToken}` } })).status).toBe(
      200,
    );
    const bad = await reconcileCommand(['--sandbox', '--bill', '2026-1-1'], { DATA_DIR: sys.dataDir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--bill: 2026-1-1 is not a date as YYYY-MM-DD/);
  });

  it('sends again a shipment WeChat could not take, exactly as the server loop does', async () => {
    const { order } = await sys.paidOrder();
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/shipping-controls`, { body: { failShippingUploads: { errcode: -1, times: 1 } } });
    const admin = { Authorization: `Bearer ${sys.adminToken}` };
    const shipped = await sys.request('POST', `/api/admin/orders/${order.id}/shipments`, {
      body: { logisticsType: 'express', packages: [{ carrier: 'YD', trackingNo: 'YD2001' }] },
      headers: admin,
    });
    expect(shipped.body.shipment).toMatchObject({ upload: 'PENDING', uploadAttempts: 1 });

    const r = await reconcileCommand(['--sandbox'], { DATA_DIR: sys.dataDir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shipments: 1 examined, 1 uploaded, 0 refused/);
    const after = (await sys.request('GET', `/api/admin/orders/${order.id}`, { headers: admin })).body.shipment;
    expect(after).toMatchObject({ status: 'SHIPPED', upload: 'ACCEPTED', uploadAttempts: 2, wechatState: 2 });
    const atWechat = (await sys.request('GET', `${sys.sandboxUrl}/sandbox/shipping/${order.outTradeNo}`)).body;
    expect(atWechat.uploads).toHaveLength(1);
    expect(atWechat.uploads[0].shipping_list[0].tracking_no).toBe('YD2001');
  });
});
