// Refunds and every yuan accounted for, over real HTTP against the sandbox: partial and full
// refunds, over-refunds, concurrent refunds, lost refund notifications, forged refund
// notifications, double payments, and the Retry-vs-reconciliation race that charged a closed order.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxKeys, type SandboxKeys } from '../../sandbox/keys';
import { buildNotification, signEnvelope } from '../../sandbox/notify';
import { figure } from './figures';
import { credentialsOf, startTestSystem, waitFor, type TestSystem } from './helpers';

let offset = 0;
const clock = { now: () => Date.now() + offset };
let sys: TestSystem;
let keys: SandboxKeys;

beforeAll(async () => {
  sys = await startTestSystem({
    env: {
      RECONCILE_INTERVAL_SECONDS: '0',
      RECONCILE_MIN_AGE_SECONDS: '0',
      ORDER_QUERY_THROTTLE_MS: '600000',
      ORDER_PAY_WINDOW_MINUTES: '600',
    },
    system: { clock, controls: { timeScale: 0.001 } },
  });
  keys = ensureSandboxKeys(sys.dataDir);
});
afterAll(() => sys.close());

const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  sys.request(method, `/api/admin${path}`, { body, headers: { Authorization: `Bearer ${sys.adminToken}`, ...headers } });

async function paidOrder(items = [{ sku: 'MUG-CERAMIC', quantity: 2 }]) {
  const token = await sys.login();
  const { order, payment } = await sys.checkout(token, items);
  expect((await sys.pay(payment)).body.errMsg).toBe('requestPayment:ok');
  const paid = await waitFor(async () => {
    const o = (await sys.request('GET', `/api/orders/${order.id}`, { token })).body.order;
    return o.status === 'PAID' ? o : null;
  });
  return { token, order: paid as typeof order };
}

const shopperView = async (token: string, id: string) => (await sys.request('GET', `/api/orders/${id}`, { token })).body.order;

async function settled(outRefundNo: string) {
  return waitFor(async () => {
    const r = await sys.server.store.findRefund(outRefundNo);
    return r && r.status !== 'PROCESSING' ? r : null;
  });
}

describe('refunds through the admin API', () => {
  it('refunds part, then the rest; the shopper sees 部分退款 then 已退款 amounts', async () => {
    const { token, order } = await paidOrder();
    const first = await admin('POST', `/api/orders/${order.id}/refunds`.replace('/api', ''), { amount: 3000, reason: '少发一件' });
    expect(first.status).toBe(201);
    expect(first.body.refund).toMatchObject({
      amount: 3000,
      status: 'PROCESSING',
      reason: '少发一件',
      outRefundNo: expect.stringMatching(/^RF\d{8}/),
    });
    await settled(first.body.refund.outRefundNo);
    expect(await shopperView(token, order.id)).toMatchObject({
      status: 'PAID',
      refundedTotal: 3000,
      refunds: [{ amount: 3000, status: 'SUCCESS' }],
      refundDue: false,
    });
    const rest = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total - 3000 });
    expect(rest.status).toBe(201);
    await settled(rest.body.refund.outRefundNo);
    const view = await shopperView(token, order.id);
    expect(view.refundedTotal).toBe(order.total);
    expect(view.refunds.map((r: { status: string }) => r.status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(sys.sandbox.refundState(rest.body.refund.outRefundNo)).toBe('SUCCESS');
  });

  it('refuses more than what remains, naming the field, and every other bad request as documented', async () => {
    const { order } = await paidOrder();
    const over = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total + 1 });
    expect(over).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', field: 'amount', message: expect.stringMatching(`at most ${order.total} fen`) } },
    });
    for (const amount of [0, -5, 1.5])
      expect((await admin('POST', `/orders/${order.id}/refunds`, { amount })).body.error).toMatchObject({ field: 'amount' });
    expect(
      (await admin('POST', `/orders/${order.id}/refunds`, { amount: 1, transactionId: '4200000000000000000000000000' })).body.error,
    ).toMatchObject({ field: 'transactionId' });
    expect((await admin('POST', `/orders/ord_${'0'.repeat(32)}/refunds`, { amount: 1 })).status).toBe(404);
    const token = await sys.login();
    const { order: unpaid } = await sys.checkout(token);
    expect((await admin('POST', `/orders/${unpaid.id}/refunds`, { amount: 1 })).body.error.code).toBe('ORDER_NOT_PAID');
    expect((await admin('POST', `/orders/${unpaid.id}/refunds`, { amount: 1 })).status).toBe(409);
    expect((await sys.request('POST', `/api/admin/orders/${order.id}/refunds`, { body: { amount: 1 } })).status).toBe(401);
    expect(
      (
        await sys.request('POST', `/api/admin/orders/${order.id}/refunds`, {
          body: { amount: 1 },
          headers: { Authorization: `Bearer ${'x'.repeat(43)}` },
        })
      ).status,
    ).toBe(401);
  });

  it('answers a replayed Idempotency-Key with the same refund, and another body with that key with 409', async () => {
    const { order } = await paidOrder();
    const a = await admin('POST', `/orders/${order.id}/refunds`, { amount: 100 }, { 'Idempotency-Key': 'refund-1' });
    const b = await admin('POST', `/orders/${order.id}/refunds`, { amount: 100 }, { 'Idempotency-Key': 'refund-1' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body.refund.id).toBe(a.body.refund.id);
    expect((await admin('POST', `/orders/${order.id}/refunds`, { amount: 200 }, { 'Idempotency-Key': 'refund-1' })).status).toBe(409);
    expect(await sys.server.store.listRefunds(order.id)).toHaveLength(1);
  });

  it('never refunds more than the total when 10 concurrent requests together exceed it', async () => {
    const { order } = await paidOrder([{ sku: 'DRIP-BAGS-10', quantity: 1 }]); // 3990 fen
    const each = 1000;
    const answers = await Promise.all(Array.from({ length: 10 }, () => admin('POST', `/orders/${order.id}/refunds`, { amount: each })));
    const accepted = answers.filter((a) => a.status === 201).length;
    const refused = answers.filter((a) => a.status === 400 && a.body.error.field === 'amount').length;
    const refunds = await sys.server.store.listRefunds(order.id);
    const total = refunds.filter((r) => r.status !== 'CLOSED').reduce((s, r) => s + r.amount, 0);
    figure(
      'concurrent-refunds',
      `10 concurrent refunds of ${each} fen against a ${order.total}-fen payment → ${accepted} accepted, ${refused} refused, ${total} fen refunded (never more than the total)`,
      { accepted, refused, total, orderTotal: order.total },
    );
    expect(accepted).toBe(3);
    expect(refused).toBe(7);
    expect(total).toBeLessThanOrEqual(order.total);
    for (const r of refunds) await settled(r.outRefundNo);
  });

  it('ends a refund whose notification was dropped as SUCCESS through reconciliation', async () => {
    const { token, order } = await paidOrder();
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { dropRefundNotifications: 1 } });
    const r = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total });
    await waitFor(async () => sys.sandbox.refundState(r.body.refund.outRefundNo) === 'SUCCESS');
    await new Promise((res) => setTimeout(res, 100)); // nothing will be delivered
    expect((await sys.server.store.findRefund(r.body.refund.outRefundNo))?.status).toBe('PROCESSING');
    const started = performance.now();
    const report = await sys.server.reconcileNow();
    const ms = performance.now() - started;
    expect(report.refunds.settled).toBeGreaterThanOrEqual(1);
    expect(await shopperView(token, order.id)).toMatchObject({ refundedTotal: order.total, refunds: [{ status: 'SUCCESS' }] });
    expect(sys.sandbox.deliveries.filter((d) => d.outRefundNo === r.body.refund.outRefundNo)).toHaveLength(0);
    figure('dropped-refund-notification', `refund notification dropped → SUCCESS by one reconciliation round in ${ms.toFixed(0)} ms`, {
      ms: Math.round(ms),
    });
  });

  it('closes a refund WeChat ends as CLOSED and gives its amount back; ABNORMAL keeps it reserved', async () => {
    const { order } = await paidOrder();
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { refundOutcome: 'closed' } });
    const closed = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total });
    expect((await settled(closed.body.refund.outRefundNo)).status).toBe('CLOSED');
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { refundOutcome: 'abnormal' } });
    const abnormal = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total });
    expect(abnormal.status).toBe(201);
    expect((await settled(abnormal.body.refund.outRefundNo)).status).toBe('ABNORMAL');
    expect((await admin('POST', `/orders/${order.id}/refunds`, { amount: 1 })).body.error.field).toBe('amount');
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { refundOutcome: 'success' } });
  });
});

describe('refund notifications hold the same line as payment notifications', () => {
  it('refuses forged, stale, unknown-serial and tampered ones, and a wrong mchid, changing nothing', async () => {
    const { order } = await paidOrder();
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { refundDelayMs: 600_000 } });
    const r = await admin('POST', `/orders/${order.id}/refunds`, { amount: 500 });
    const outRefundNo = r.body.refund.outRefundNo;
    await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, { body: { refundDelayMs: 50 } });
    const refund = (over: Record<string, unknown> = {}) => ({
      mchid: keys.mchid,
      out_trade_no: order.outTradeNo,
      transaction_id: order.transactionId,
      out_refund_no: outRefundNo,
      refund_id: '50300000000000000000000000001',
      refund_status: 'SUCCESS',
      success_time: '2026-11-30T12:00:00+08:00',
      amount: { total: order.total, refund: 500, payer_total: order.total, payer_refund: 500 },
      ...over,
    });
    const signer = sys.sandbox.signer();
    const good = () =>
      buildNotification({
        apiV3Key: keys.apiV3Key,
        signer,
        transaction: refund(),
        originalType: 'refund',
        eventType: 'REFUND.SUCCESS',
        nowMs: clock.now(),
      });
    const send = (d: { body: string; headers: Record<string, string> }) =>
      fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
    const forged = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const cases: [string, () => { body: string; headers: Record<string, string> }, number][] = [
      [
        'a signature by another key',
        () =>
          buildNotification({
            apiV3Key: keys.apiV3Key,
            signer: { serial: signer.serial, privateKey: forged },
            transaction: refund(),
            originalType: 'refund',
          }),
        401,
      ],
      [
        'a stale timestamp',
        () =>
          buildNotification({
            apiV3Key: keys.apiV3Key,
            signer,
            transaction: refund(),
            originalType: 'refund',
            nowMs: clock.now() - 6 * 60_000,
          }),
        400,
      ],
      [
        'an unknown serial',
        () =>
          buildNotification({
            apiV3Key: keys.apiV3Key,
            signer: { ...signer, serial: 'PUB_KEY_ID_0000000000000000000000000099' },
            transaction: refund(),
            originalType: 'refund',
          }),
        400,
      ],
      [
        'a tampered body',
        () => {
          const d = good();
          return { ...d, body: d.body.replace('"REFUND.SUCCESS"', '"REFUND.CLOSED"') };
        },
        401,
      ],
      [
        'a resource that is not a refund',
        () =>
          signEnvelope(
            JSON.stringify({ ...JSON.parse(good().body), resource: { ...JSON.parse(good().body).resource, ciphertext: 'AAAA' } }),
            signer,
            clock.now(),
          ),
        400,
      ],
      [
        'a wrong mchid',
        () =>
          buildNotification({
            apiV3Key: keys.apiV3Key,
            signer,
            transaction: refund({ mchid: '1900000000' }),
            originalType: 'refund',
            eventType: 'REFUND.SUCCESS',
          }),
        400,
      ],
    ];
    const held: string[] = [];
    for (const [name, make, expected] of cases) {
      const res = await send(make());
      expect(res.status, name).toBe(expected);
      expect((await sys.server.store.findRefund(outRefundNo))?.status, name).toBe('PROCESSING');
      held.push(`${name} → ${res.status}`);
    }
    // And the genuine one applies, once, however often it comes.
    const d = good();
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(d)));
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204, 204, 204]);
    expect(await sys.server.store.findRefund(outRefundNo)).toMatchObject({
      status: 'SUCCESS',
      providerRefundId: '50300000000000000000000000001',
    });
    expect(await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo)).toMatchObject({
      outcome: 'REFUND_APPLIED',
      deliveries: 5,
    });
    figure(
      'refund-notification-refusals',
      `${cases.length} forged or malformed refund notifications refused, refund unchanged: ${held.join('; ')}`,
      { refused: held.length },
    );
  });

  it('processes a settled notification id reused for another order instead of dropping it', async () => {
    const a = await paidOrder();
    const token = await sys.login();
    const { order: b } = await sys.checkout(token);
    const tx = (o: { outTradeNo: string; total: number }, id: string) => ({
      appid: keys.appid,
      mchid: keys.mchid,
      out_trade_no: o.outTradeNo,
      transaction_id: id,
      trade_state: 'SUCCESS',
      amount: { total: o.total, currency: 'CNY' },
    });
    const send = (d: { body: string; headers: Record<string, string> }) =>
      fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
    const id = 'EV-REUSED-0001';
    expect(
      (
        await send(
          buildNotification({
            apiV3Key: keys.apiV3Key,
            signer: sys.sandbox.signer(),
            id,
            transaction: tx(a.order, a.order.transactionId!),
          }),
        )
      ).status,
    ).toBe(204);
    expect(
      (
        await send(
          buildNotification({
            apiV3Key: keys.apiV3Key,
            signer: sys.sandbox.signer(),
            id,
            transaction: tx(b, '4200000000202611300000000042'),
          }),
        )
      ).status,
    ).toBe(204);
    expect((await shopperView(token, b.id)).status).toBe('PAID');
  });
});

describe('every payment on record', () => {
  it('keeps a second, different payment with its transaction id, flags refundDue, and one refund call clears it', async () => {
    const { token, order } = await paidOrder();
    sys.sandbox.duplicateCharge(order.outTradeNo); // WeChat took the money twice, and says so
    await waitFor(async () => (await shopperView(token, order.id)).refundDue === true);
    const detail = (await admin('GET', `/orders/${order.id}`)).body;
    expect(detail.payments.map((p: { kind: string }) => p.kind).sort()).toEqual(['DUPLICATE', 'ORDER']);
    const duplicate = detail.payments.find((p: { kind: string }) => p.kind === 'DUPLICATE').transactionId as string;
    expect(duplicate).not.toBe(order.transactionId);
    expect((await admin('GET', '/orders?refundDue=true')).body.orders.map((o: { id: string }) => o.id)).toContain(order.id);
    const r = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total, reason: '重复支付' });
    expect(r.body.refund).toMatchObject({ transactionId: duplicate, amount: order.total });
    await settled(r.body.refund.outRefundNo);
    expect(await shopperView(token, order.id)).toMatchObject({ status: 'PAID', refundDue: false, refundedTotal: order.total });
    expect((await admin('GET', '/orders?refundDue=true')).body.orders.map((o: { id: string }) => o.id)).not.toContain(order.id);
  });

  it('a refund the provider refuses is closed with the reason, and the money stays due', async () => {
    const { token, order } = await paidOrder();
    const second = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer: sys.sandbox.signer(),
      transaction: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: order.outTradeNo,
        transaction_id: '4200000000202611300000007777',
        trade_state: 'SUCCESS',
        amount: { total: order.total, currency: 'CNY' },
      },
    });
    expect((await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: second.body, headers: second.headers })).status).toBe(
      204,
    );
    expect(await shopperView(token, order.id)).toMatchObject({ status: 'PAID', refundDue: true });
    const detail = (await admin('GET', `/orders/${order.id}`)).body;
    expect(detail.payments.map((p: { transactionId: string; kind: string }) => [p.kind, p.transactionId]).sort()).toEqual([
      ['DUPLICATE', '4200000000202611300000007777'],
      ['ORDER', order.transactionId],
    ]);
    expect((await admin('GET', '/orders?refundDue=true')).body.orders.map((o: { id: string }) => o.id)).toContain(order.id);
    // The sandbox never took that second payment, so the refund is refused there: the record says so.
    const refused = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total });
    expect(refused.status).toBe(502);
    expect((await sys.server.store.listRefunds(order.id))[0]).toMatchObject({
      status: 'CLOSED',
      transactionId: '4200000000202611300000007777',
      failure: expect.stringMatching(/RESOURCE_NOT_EXISTS/),
    });
    expect((await shopperView(token, order.id)).refundDue).toBe(true);
  });

  it('Retry that opens a new attempt closes the old one first, so its sheet can no longer pay', async () => {
    const token = await sys.login();
    const { order, payment: firstSheet } = await sys.checkout(token);
    sys.sandbox.controls.failPrepay = { status: 403, code: 'OUT_TRADE_NO_USED', message: '商户订单号重复', times: 1 };
    offset += 2 * 3600_000; // the first prepay_id has expired: Retry must re-post, is refused, opens a new attempt
    const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    offset -= 2 * 3600_000;
    expect(retry.status).toBe(200);
    expect(retry.body.order.outTradeNo).not.toBe(order.outTradeNo);
    expect((await sys.pay(retry.body.payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await shopperView(token, order.id)).status === 'PAID');
    // The old attempt was closed at WeChat before the new one opened, so its sheet can no longer pay.
    expect((await sys.pay(firstSheet)).body.errMsg).toMatch(/订单已关闭/);
    expect((await shopperView(token, order.id)).refundDue).toBe(false);
  });

  it('a success for a closed order is kept and refunded in one call', async () => {
    const token = await sys.login();
    const { order, payment } = await sys.checkout(token);
    sys.sandbox.controls.dropNotifications = 1;
    await sys.pay(payment);
    // The shop closes it locally (as a lost race would have): WeChat's success then arrives.
    await sys.server.store.markClosed(order.id, clock.now());
    const d = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer: sys.sandbox.signer(),
      transaction: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: order.outTradeNo,
        transaction_id: ((await sys.server.provider.query(order.outTradeNo)) as { state: 'SUCCEEDED'; payment: { transactionId: string } })
          .payment.transactionId,
        trade_state: 'SUCCESS',
        amount: { total: order.total, currency: 'CNY' },
      },
    });
    expect((await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers })).status).toBe(204);
    expect(await shopperView(token, order.id)).toMatchObject({ status: 'CLOSED', refundDue: true });
    const r = await admin('POST', `/orders/${order.id}/refunds`, { amount: order.total, reason: '订单已关闭后到账' });
    expect(r.status).toBe(201);
    await settled(r.body.refund.outRefundNo);
    expect(await shopperView(token, order.id)).toMatchObject({ status: 'CLOSED', refundDue: false, refundedTotal: order.total });
  });
});

describe('Retry and reconciliation', () => {
  // The pay window ends while Retry waits on WeChat. With the lease still held, reconciliation waits
  // for it; with the lease outrun (the clock jumps past it), Retry's re-check after the call holds.
  for (const [name, timeoutMs, reconcileWaits] of [
    ["reconciliation waits for Retry's lease", '60000', true],
    ['Retry re-checks the order after WeChat answers', '10000', false],
  ] as const)
    it(`never hands out a payment sheet for an order reconciliation is closing: ${name}`, async () => {
      const s = await startTestSystem({
        env: {
          ORDER_PAY_WINDOW_MINUTES: '1',
          RECONCILE_INTERVAL_SECONDS: '0',
          RECONCILE_MIN_AGE_SECONDS: '0',
          ORDER_QUERY_THROTTLE_MS: '600000',
          WECHATPAY_TIMEOUT_MS: timeoutMs,
        },
        system: { clock },
      });
      try {
        const token = await s.login();
        // WeChat Pay fails the first prepay: the order is saved, offered for payment later.
        s.sandbox.controls.failPrepay = { status: 500, code: 'SYSTEM_ERROR', message: '系统错误', times: 1 };
        const created = await s.request('POST', '/api/orders', { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] } });
        expect(created.status).toBe(503);
        const orderId = created.body.error.orderId as string;
        const before = (await s.server.store.findOrder(orderId))!;
        // Retry: the re-post is refused (the out_trade_no is spent), so Retry swaps to a new one; WeChat is slow.
        s.sandbox.controls.failPrepay = { status: 403, code: 'OUT_TRADE_NO_USED', message: '商户订单号重复', times: 1 };
        s.sandbox.controls.prepayDelayMs = 500;
        const retry = s.request('POST', `/api/orders/${orderId}/payment`, { token });
        await waitFor(async () => (await s.server.store.findOrder(orderId))!.outTradeNo !== before.outTradeNo, 5000, 5);
        const newNo = (await s.server.store.findOrder(orderId))!.outTradeNo;
        // Meanwhile the pay window ends and reconciliation runs, while WeChat is still creating the new order.
        offset += 61_000;
        const report = await s.server.reconcileNow();
        const answer = await retry;
        s.sandbox.controls.prepayDelayMs = 0;
        // No sheet for an order that is closed or being closed; the new number is closed at WeChat too.
        // A leased order is not even a candidate; an outrun lease lets reconciliation close it.
        expect(report.closed).toBe(reconcileWaits ? 0 : 1);
        expect(answer.status).toBe(409);
        expect(answer.body.error.code).toBe('ORDER_CLOSED');
        expect(s.sandbox.orderState(newNo)).toBe('CLOSED');
        await s.server.reconcileNow();
        const view = (await s.request('GET', `/api/orders/${orderId}`, { token })).body.order;
        expect(view).toMatchObject({ status: 'CLOSED', refundDue: false });
        figure(
          `retry-vs-reconcile-${reconcileWaits ? 'lease' : 'recheck'}`,
          `Retry swapping out_trade_no while reconciliation closes the overdue order: reconciliation ${report.closed ? 'closed it first' : 'left the leased order alone'}; Retry answered ${answer.status} ${answer.body.error.code}; no sheet handed out; order CLOSED, refundDue false`,
          { retryStatus: answer.status, reconcileClosed: report.closed },
        );
      } finally {
        offset = 0;
        await s.close();
      }
    });

  it('Retry after a payment whose notification was lost recognizes it: 409 ORDER_ALREADY_PAID, order paid', async () => {
    const token = await sys.login();
    const { order, payment } = await sys.checkout(token);
    sys.sandbox.controls.dropNotifications = 1;
    await sys.pay(payment);
    offset += 2 * 3600_000; // the prepay_id has expired: Retry re-posts, WeChat answers ORDERPAID
    try {
      const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
      expect(retry).toMatchObject({ status: 409, body: { error: { code: 'ORDER_ALREADY_PAID' } } });
      expect((await sys.server.store.findOrder(order.id))?.status).toBe('PAID');
    } finally {
      offset -= 2 * 3600_000;
    }
  });

  it('reconciliation flags a success it cannot apply once, then leaves the order alone', async () => {
    const token = await sys.login();
    const { order } = await sys.checkout(token);
    // WeChat reports the order paid for another amount (here: a success planted at the sandbox's query).
    const provider = sys.server.provider;
    const original = provider.query;
    let queries = 0;
    provider.query = async (reference) => {
      queries += 1;
      const status = await original(reference);
      return reference === order.outTradeNo
        ? {
            state: 'SUCCEEDED',
            payment: {
              reference,
              transactionId: '4200000000202611300000005555',
              payee: provider.payee,
              amount: 1,
              currency: 'CNY',
              paidAt: clock.now(),
            },
          }
        : status;
    };
    try {
      const first = await sys.server.reconcileNow();
      expect(first.flagged).toBe(1);
      const second = await sys.server.reconcileNow();
      expect(second.flagged).toBe(0);
      expect(queries).toBeGreaterThanOrEqual(1);
      const flaggedLogs = sys.logs.filter((l) => l.includes('flagged for review') && l.includes(order.id));
      expect(flaggedLogs).toHaveLength(1);
      expect((await admin('GET', `/orders/${order.id}`)).body.order).toMatchObject({
        status: 'PENDING',
        reviewReason: expect.stringMatching(/^AMOUNT_MISMATCH/),
      });
    } finally {
      provider.query = original;
    }
  });
});

describe('the admin API', () => {
  it('pages orders newest first, filtered by status', async () => {
    const page = await admin('GET', '/orders?status=PAID&limit=2');
    expect(page.status).toBe(200);
    expect(page.body.orders).toHaveLength(2);
    expect(page.body.orders.every((o: { status: string }) => o.status === 'PAID')).toBe(true);
    const next = await admin('GET', `/orders?status=PAID&limit=2&before=${encodeURIComponent(page.body.next)}`);
    expect(next.body.orders[0].createdAt <= page.body.orders[1].createdAt).toBe(true);
    expect((await admin('GET', '/orders?status=LOST')).body.error).toMatchObject({ field: 'query.status' });
  });

  it('shows one order with its attempts, notifications and refunds', async () => {
    const { order } = await paidOrder();
    const d = (await admin('GET', `/orders/${order.id}`)).body;
    expect(d.order).toMatchObject({ id: order.id, status: 'PAID' });
    expect(d.attempts[0]).toMatchObject({ outTradeNo: order.outTradeNo, prepayId: expect.stringMatching(/^wx/) });
    expect(d.attempts[0].requestBody).toBeUndefined();
    expect(d.notifications[0]).toMatchObject({ outTradeNo: order.outTradeNo, outcome: 'APPLIED', requestId: expect.any(String) });
  });

  it('does not exist without ADMIN_TOKEN', async () => {
    const s = await startTestSystem({ env: { ADMIN_TOKEN: '' } });
    try {
      expect(s.adminToken).toBeTruthy(); // the launcher made one, as npm start does …
      const { startServer } = await import('../src/server');
      const { loadConfig } = await import('../src/config');
      const { createLogger } = await import('../src/logger');
      // … but a server configured without one (npm run serve) has no admin routes at all.
      const env = credentialsOf(s.dataDir);
      const bare = await startServer(loadConfig({ ...env, PORT: '0', DATA_DIR: s.dataDir, RECONCILE_INTERVAL_SECONDS: '0' }), {
        logger: createLogger('silent'),
      });
      try {
        const res = await fetch(`${bare.apiUrl}/api/admin/orders`, { headers: { Authorization: `Bearer ${s.adminToken}` } });
        expect(res.status).toBe(404);
      } finally {
        await bare.close();
      }
    } finally {
      await s.close();
    }
  });
});
