// Faults survived, with figures: duplicates, lost notifications, a failing store, a failing WeChat Pay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxKeys } from '../../sandbox/keys';
import { buildNotification } from '../../sandbox/notify';
import { figure } from './figures';
import { startTestSystem, waitFor, type TestSystem } from './helpers';

describe('notifications under duplication and loss', () => {
  let sys: TestSystem;
  const INTERVAL_MS = 2000;
  beforeAll(async () => {
    sys = await startTestSystem({
      env: { RECONCILE_INTERVAL_SECONDS: String(INTERVAL_MS / 1000), RECONCILE_MIN_AGE_SECONDS: '0', ORDER_QUERY_THROTTLE_MS: '600000' },
    });
  });
  afterAll(() => sys.close());

  it('100 concurrent identical notifications → exactly one transition, 100 answers of 2xx', async () => {
    const keys = ensureSandboxKeys(sys.dataDir);
    const token = await sys.login();
    const { order } = await sys.checkout(token);
    const d = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer: sys.sandbox.signer(),
      transaction: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: order.outTradeNo,
        transaction_id: '4200000000202611280000000100',
        trade_state: 'SUCCESS',
        amount: { total: order.total, payer_total: order.total, currency: 'CNY' },
      },
    });
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from(
        { length: 100 },
        async () => (await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers })).status,
      ),
    );
    const ms = performance.now() - started;
    const transitions = sys.logs.filter((l) => l.includes('"order paid"') && l.includes(order.id)).length;
    const ok = statuses.filter((s) => s >= 200 && s < 300).length;
    figure(
      'concurrent-notifications',
      `100 concurrent identical notifications → ${transitions} transition, ${ok} answers of 2xx, in ${ms.toFixed(0)} ms`,
      { sent: 100, ok, transitions, ms: Math.round(ms) },
    );
    expect(ok).toBe(100);
    expect(transitions).toBe(1);
    expect((await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo))?.deliveries).toBe(100);
  });

  it('every notification dropped for 20 paid orders → reconciliation marks all 20 paid within two intervals', async () => {
    const sandbox = sys.sandbox;
    sandbox.controls.dropNotifications = Number.POSITIVE_INFINITY;
    try {
      const token = await sys.login();
      const orders: Awaited<ReturnType<TestSystem['checkout']>>[] = [];
      for (let i = 0; i < 20; i++) orders.push(await sys.checkout(token, [{ sku: 'STICKER-PACK', quantity: 1 + i }]));
      for (const { payment } of orders) expect((await sys.pay(payment)).body.errMsg).toBe('requestPayment:ok');
      const paidAt = performance.now();
      const deliveriesBefore = sandbox.deliveries.length;
      await waitFor(
        async () => {
          const states = await Promise.all(orders.map(({ order }) => sys.server.store.findOrder(order.id)));
          return states.every((o) => o?.status === 'PAID');
        },
        2 * INTERVAL_MS + 2000,
        25,
      );
      const ms = performance.now() - paidAt;
      expect(sandbox.deliveries.length).toBe(deliveriesBefore); // nothing was delivered: reconciliation did it
      figure(
        'reconcile-lost-notifications',
        `20 paid orders, every notification dropped → all 20 PAID by reconciliation after ${ms.toFixed(0)} ms (interval ${INTERVAL_MS} ms)`,
        { orders: 20, ms: Math.round(ms), intervalMs: INTERVAL_MS },
      );
      expect(ms).toBeLessThan(2 * INTERVAL_MS);
    } finally {
      sandbox.controls.dropNotifications = 0;
    }
  });
});

describe('a store that fails while a notification is processed', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({
      env: { RECONCILE_INTERVAL_SECONDS: '0', ORDER_QUERY_THROTTLE_MS: '600000' },
      system: { controls: { timeScale: 0.002 } },
    });
  });
  afterAll(() => sys.close());

  it("answers 5xx; WeChat's retry later succeeds; the order ends paid; nothing is lost", async () => {
    const token = await sys.login();
    const { order, payment } = await sys.checkout(token);
    const store = sys.server.store;
    const markPaid = store.markPaid;
    let failures = 0;
    store.markPaid = async (...args) => {
      if (failures < 2) {
        failures += 1;
        throw new Error('SQLITE_IOERR: disk I/O error (injected)');
      }
      return markPaid(...args);
    };
    try {
      await sys.pay(payment);
      await sys.sandbox.idle();
    } finally {
      store.markPaid = markPaid;
    }
    const answers = sys.sandbox.deliveries.filter((d) => d.outTradeNo === order.outTradeNo).map((d) => d.status);
    const after = await store.findOrder(order.id);
    figure(
      'store-failure',
      `store failed twice while processing → answers ${answers.join(', ')}; WeChat's retry succeeded; order ${after?.status}`,
      { answers: answers.join(','), status: after?.status ?? 'missing' },
    );
    expect(answers).toEqual([500, 500, 204]);
    expect(after?.status).toBe('PAID');
  });
});

describe('WeChat Pay failing on order creation', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0', WECHATPAY_TIMEOUT_MS: '300' } });
  });
  afterAll(() => sys.close());

  const cases: [string, Record<string, unknown>, number, string][] = [
    ['a timeout', { prepayDelayMs: 1000 }, 502, 'WECHATPAY_UNREACHABLE'],
    ['a 500 SYSTEM_ERROR', { failPrepay: { status: 500, code: 'SYSTEM_ERROR', message: '系统错误', times: 1 } }, 503, 'WECHATPAY_BUSY'],
    ['a 429', { failPrepay: { status: 429, code: 'FREQUENCY_LIMITED', message: '频率超限', times: 1 } }, 503, 'WECHATPAY_BUSY'],
    ['a 503', { failPrepay: { status: 503, code: 'SERVICE_UNAVAILABLE', message: '服务不可用', times: 1 } }, 503, 'WECHATPAY_BUSY'],
  ];
  const seen: string[] = [];

  for (const [name, controls, status, code] of cases) {
    it(`${name} → ${status} ${code}, the order stays retryable, and the retry succeeds`, async () => {
      const sandbox = sys.sandbox;
      const token = await sys.login();
      Object.assign(sandbox.controls, controls);
      const key = `fail-${name.replace(/\W+/g, '-')}`;
      const first = await sys.request('POST', '/api/orders', {
        token,
        body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] },
        headers: { 'Idempotency-Key': key },
      });
      Object.assign(sandbox.controls, { prepayDelayMs: 0, failPrepay: null });
      expect(first.status).toBe(status);
      expect(first.body.error).toMatchObject({ code, orderId: expect.stringMatching(/^ord_/) });
      const orderId = first.body.error.orderId as string;
      expect((await sys.request('GET', `/api/orders/${orderId}`, { token })).body.order.status).toBe('PENDING');
      const retry = await sys.request('POST', `/api/orders/${orderId}/payment`, { token });
      expect(retry.status).toBe(200);
      expect((await sys.pay(retry.body.payment)).body.errMsg).toBe('requestPayment:ok');
      await waitFor(async () => (await sys.request('GET', `/api/orders/${orderId}`, { token })).body.order.status === 'PAID', 3000);
      seen.push(`${name} → ${status}`);
      if (seen.length === cases.length)
        figure('wechatpay-failures', `${seen.join('; ')}; every order stayed PENDING and was paid on retry`, { cases: cases.length });
    });
  }
});
