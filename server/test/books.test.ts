// The daily books end to end, over real sockets, on API v3 and v2: the sandbox keeps WeChat's books and
// writes its bills; a switch makes them disagree with ours in one way; the day is reconciled through the
// admin API; the stored result names exactly that discrepancy (and what our own repair can settle is
// repaired). Each test runs on a day of its own: the shared clock moves a day forward per test.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { beijingDate } from '../src/domain/book-day';
import { startTestSystem, waitFor, type TestSystem } from './helpers';

const VERSIONS = [
  { name: 'v3', env: { WECHATPAY_API_VERSION: 'v3' } },
  { name: 'v2 (MD5)', env: { WECHATPAY_API_VERSION: 'v2', WECHATPAY_V2_SIGN_TYPE: 'MD5' } },
] as const;

const DAY = 86_400_000;

for (const version of VERSIONS) {
  describe(`the daily books, API ${version.name}`, () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    let sys: TestSystem;
    const today = () => beijingDate(clock.now());

    beforeAll(async () => {
      sys = await startTestSystem({
        env: {
          ...version.env,
          RECONCILE_INTERVAL_SECONDS: '0',
          BOOKS_LOOKBACK_DAYS: '0',
          ORDER_QUERY_THROTTLE_MS: '600000',
          ORDER_PAY_WINDOW_MINUTES: '600',
        },
        system: { clock, controls: { timeScale: 0.001, billsReadyNow: true, refundDelayMs: 10 } },
      });
    });
    afterAll(() => sys.close());
    beforeEach(async () => {
      offset += DAY; // a day of its own
      await sandbox('/books', { reset: true });
      await sandbox('/controls', { billsReadyNow: true, refundOutcome: 'success', dropNotifications: 0, dropRefundNotifications: 0 });
    });

    const admin = (method: string, path: string, body?: unknown) =>
      sys.request(method, `/api/admin${path}`, { body, headers: { Authorization: `Bearer ${sys.adminToken}` } });
    const sandbox = async (path: string, body: unknown) => {
      const res = await sys.request('POST', `${sys.sandboxUrl}/sandbox${path}`, { body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    const reconcile = async (date = today()) => {
      const res = await admin('POST', `/books/${date}`);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };
    const paid = async () => {
      const { order } = await sys.paidOrder([{ sku: 'MUG-CERAMIC', quantity: 1 }]);
      const stored = (await sys.server.store.findOrder(order.id))!;
      return { id: order.id, outTradeNo: stored.outTradeNo!, transactionId: stored.transactionId!, total: stored.total };
    };
    const refund = async (orderId: string, amount: number) => {
      const res = await admin('POST', `/orders/${orderId}/refunds`, { amount });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.refund.outRefundNo as string;
    };
    const settled = (outRefundNo: string) =>
      waitFor(async () => {
        const r = await sys.server.store.findRefund(outRefundNo);
        return r && r.status !== 'PROCESSING' ? r : null;
      });

    it('balances a day of payments and a refund, with fees and net from the bill', async () => {
      const a = await paid();
      const b = await paid();
      const no = await refund(b.id, 1000);
      await settled(no);
      const day = await reconcile();
      expect(day).toMatchObject({ date: today(), status: 'BALANCED', noBill: false, lines: 3, matched: 3, discrepancies: [] });
      const fee = (fen: number) => Math.floor(fen * 0.006 + 0.5);
      expect(day.totals).toEqual({
        wechat: {
          payments: a.total + b.total,
          refunds: 1000,
          fees: fee(a.total) + fee(b.total) - fee(1000),
          net: a.total + b.total - 1000 - (fee(a.total) + fee(b.total) - fee(1000)),
        },
        ours: { payments: a.total + b.total, refunds: 1000 },
      });
      expect((await admin('GET', `/books/${today()}`)).body).toEqual(day);
      const list = await admin('GET', `/books?from=${beijingDate(clock.now() - 3 * DAY)}&to=${today()}`);
      expect(list.status).toBe(200);
      expect(list.body.days.map((d: { date: string }) => d.date)).toContain(today());
    });

    it('MISSING_LOCALLY: a payment whose notification never came is queried, applied and marked repaired', async () => {
      await sandbox('/controls', { dropNotifications: 1 });
      const token = await sys.login();
      const { order, payment } = await sys.checkout(token);
      expect((await sys.pay(payment)).body.errMsg).toBe('requestPayment:ok');
      const stored = (await sys.server.store.findOrder(order.id))!;
      expect(stored.status).toBe('PENDING');
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        expect.objectContaining({ kind: 'MISSING_LOCALLY', outTradeNo: stored.outTradeNo, wechat: stored.total, repaired: true }),
      ]);
      expect(day.status).toBe('REPAIRED');
      expect((await sys.server.store.findOrder(order.id))!.status).toBe('PAID');
    });

    it('MISSING_LOCALLY: a payment the shop never heard of waits for the operator', async () => {
      await paid();
      const stranger = await sandbox('/books', { strangerPayment: { amount: 777 } });
      const day = await reconcile();
      expect(day.status).toBe('DISCREPANCIES');
      expect(day.discrepancies).toEqual([
        expect.objectContaining({
          kind: 'MISSING_LOCALLY',
          outTradeNo: stranger.outTradeNo,
          transactionId: stranger.transactionId,
          wechat: 777,
          repaired: false,
        }),
      ]);
    });

    it('MISSING_AT_WECHAT: a paid order the bill does not list', async () => {
      const a = await paid();
      await paid();
      await sandbox('/books', { omit: [a.outTradeNo] });
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        { kind: 'MISSING_AT_WECHAT', outTradeNo: a.outTradeNo, transactionId: a.transactionId, ours: a.total, repaired: false },
      ]);
      expect(day.matched).toBe(1);
    });

    it('AMOUNT_MISMATCH: the bill says another amount', async () => {
      const a = await paid();
      await sandbox('/books', { amounts: { [a.outTradeNo]: a.total + 1 } });
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        {
          kind: 'AMOUNT_MISMATCH',
          outTradeNo: a.outTradeNo,
          transactionId: a.transactionId,
          ours: a.total,
          wechat: a.total + 1,
          repaired: false,
        },
      ]);
      expect(day.totals.wechat.payments).toBe(a.total + 1);
      expect(day.totals.ours.payments).toBe(a.total);
    });

    it('REFUND_STATE_MISMATCH: a refund we hold as SUCCESS failed at WeChat', async () => {
      const a = await paid();
      const no = await refund(a.id, 500);
      expect((await settled(no)).status).toBe('SUCCESS');
      await sandbox('/books', { refundFails: no });
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        expect.objectContaining({ kind: 'REFUND_STATE_MISMATCH', outRefundNo: no, ours: 'SUCCESS', wechat: 'ABNORMAL', repaired: false }),
      ]);
    });

    it('REFUND_STATE_MISMATCH: a refund that closed at WeChat unheard is brought up to date and marked repaired', async () => {
      const a = await paid();
      await sandbox('/controls', { refundOutcome: 'closed', dropRefundNotifications: 1 });
      const no = await refund(a.id, 500);
      await waitFor(async () => sys.sandbox.refundState(no) === 'CLOSED');
      expect((await sys.server.store.findRefund(no))!.status).toBe('PROCESSING');
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        expect.objectContaining({ kind: 'REFUND_STATE_MISMATCH', outRefundNo: no, ours: 'CLOSED', wechat: 'CLOSED', repaired: true }),
      ]);
      expect((await sys.server.store.findRefund(no))!.status).toBe('CLOSED');
    });

    it('REFUND_MISSING_LOCALLY: a refund at WeChat the shop never asked for', async () => {
      const a = await paid();
      const stranger = await sandbox('/books', { strangerRefund: { transactionId: a.transactionId, amount: 300 } });
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        expect.objectContaining({
          kind: 'REFUND_MISSING_LOCALLY',
          outRefundNo: stranger.outRefundNo,
          outTradeNo: a.outTradeNo,
          wechat: 300,
          repaired: false,
        }),
      ]);
    });

    it('REFUND_MISSING_AT_WECHAT: a refund of ours the bill does not list', async () => {
      const a = await paid();
      const no = await refund(a.id, 200);
      await settled(no);
      await sandbox('/books', { omit: [no] });
      const day = await reconcile();
      expect(day.discrepancies).toEqual([
        {
          kind: 'REFUND_MISSING_AT_WECHAT',
          outTradeNo: a.outTradeNo,
          outRefundNo: no,
          transactionId: a.transactionId,
          ours: 200,
          repaired: false,
        },
      ]);
    });

    it('a day without trades has no bill and balances; a day not ready yet answers 409; re-running replaces the day', async () => {
      const empty = await reconcile();
      expect(empty).toMatchObject({ status: 'BALANCED', noBill: true, lines: 0, discrepancies: [] });
      await sandbox('/controls', { billsReadyNow: false });
      const early = await admin('POST', `/books/${today()}`);
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('BILL_NOT_READY');
      await sandbox('/controls', { billsReadyNow: true });
      await paid();
      const again = await reconcile();
      expect(again).toMatchObject({ status: 'BALANCED', noBill: false, lines: 1 });
      expect((await admin('GET', `/books/${today()}`)).body.lines).toBe(1);
      expect((await admin('GET', `/books/${beijingDate(clock.now() + 400 * DAY)}`)).status).toBe(404);
      expect((await admin('POST', '/books/2026-02-30')).status).toBe(400);
      expect((await admin('POST', `/books/${beijingDate(clock.now() + 2 * DAY)}`)).status).toBe(400);
    });
  });
}
