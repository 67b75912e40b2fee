// Reconciliation: closing at WeChat Pay before closing locally, late payments, several instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxKeys } from '../../sandbox/keys';
import { buildNotification } from '../../sandbox/notify';
import { reconcileOnce } from '../src/domain/reconcile';
import { loadConfig } from '../src/config';
import { createProviders } from '../src/wiring';
import { createLogger } from '../src/logger';
import { credentialsOf, startTestSystem, type TestSystem } from './helpers';

let offset = 0;
const clock = { now: () => Date.now() + offset };
let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({
    env: {
      ORDER_PAY_WINDOW_MINUTES: '1',
      RECONCILE_INTERVAL_SECONDS: '0',
      RECONCILE_MIN_AGE_SECONDS: '0',
      ORDER_QUERY_THROTTLE_MS: '600000',
    },
    system: { clock },
  });
});
afterAll(() => sys.close());

describe('reconciliation', () => {
  it('closes an unpaid order past its deadline at WeChat Pay first, then locally', async () => {
    const token = await sys.login();
    const { order } = await sys.checkout(token);
    offset += 2 * 60_000;
    const report = await sys.server.reconcileNow();
    expect(report.closed).toBeGreaterThanOrEqual(1);
    expect(sys.sandbox.orderState(order.outTradeNo)).toBe('CLOSED');
    const closed = (await sys.request('GET', `/api/orders/${order.id}`, { token })).body.order;
    expect(closed).toMatchObject({ status: 'CLOSED', refundDue: false });
    const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    expect(retry.body.error.code).toBe('ORDER_CLOSED');
  });

  it('records a success that arrives for a closed order as paid after close, never reopening it', async () => {
    const token = await sys.login();
    const { order } = await sys.checkout(token);
    offset += 2 * 60_000;
    await sys.server.reconcileNow();
    const keys = ensureSandboxKeys(sys.dataDir);
    const d = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer: sys.sandbox.signer(),
      nowMs: clock.now(),
      transaction: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: order.outTradeNo,
        transaction_id: '4200000000202611280000007777',
        trade_state: 'SUCCESS',
        amount: { total: order.total, currency: 'CNY' },
      },
    });
    const res = await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
    expect(res.status).toBe(204);
    expect(await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo)).toMatchObject({ outcome: 'PAID_AFTER_CLOSE' });
    expect((await sys.request('GET', `/api/orders/${order.id}`, { token })).body.order).toMatchObject({
      status: 'CLOSED',
      refundDue: true,
    });
    expect(sys.logs.some((l) => l.includes('refund needed') && l.includes(order.id))).toBe(true);
  });

  it('takes the payment, not a close, when WeChat Pay says the overdue order was paid', async () => {
    const token = await sys.login();
    const { order, payment } = await sys.checkout(token);
    sys.sandbox.controls.dropNotifications = 1;
    await sys.pay(payment);
    offset += 2 * 60_000;
    const report = await sys.server.reconcileNow();
    expect(report.paid).toBeGreaterThanOrEqual(1);
    expect((await sys.server.store.findOrder(order.id))?.status).toBe('PAID');
  });

  it('lets several instances run at once: every order is handled by exactly one', async () => {
    const token = await sys.login();
    const orders = [];
    sys.sandbox.controls.dropNotifications = 10;
    for (let i = 0; i < 10; i++) {
      const o = await sys.checkout(token, [{ sku: 'STICKER-PACK', quantity: i + 1 }]);
      await sys.pay(o.payment);
      orders.push(o.order);
    }
    // Each instance wired from the same credentials the sandbox handed over, as separate processes would be.
    const config = loadConfig({ ...credentialsOf(sys.dataDir), DATA_DIR: sys.dataDir });
    const logger = createLogger('silent');
    const instances = ['instance-a', 'instance-b', 'instance-c'].map((owner) => {
      const { payments } = createProviders(config, clock);
      return reconcileOnce({ store: sys.server.store, provider: payments, now: clock.now, logger, minAgeMs: 0, owner });
    });
    const reports = await Promise.all(instances);
    const paid = reports.reduce((n, r) => n + r.paid, 0);
    const examined = reports.reduce((n, r) => n + r.examined, 0);
    expect(paid).toBe(10);
    expect(examined).toBe(10);
    for (const o of orders) expect((await sys.server.store.findOrder(o.id))?.status).toBe('PAID');
  });
});
