// One contract suite, every adapter: the same tests run against SQLite and MongoDB.
import { beforeEach, describe, expect, it } from 'vitest';
import { SEED_PRODUCTS } from '../src/domain/catalog';
import { DuplicateKeyError } from '../src/domain/errors';
import { canTransition, type Order, type OrderStatus } from '../src/domain/order';
import { outcomesReplacedBy, type NotificationRecord } from '../src/domain/notification';
import type { Refund } from '../src/domain/refund';
import type { Store } from '../src/storage/port';

import { makeOrder, uniq } from './orders-fixture';

export { makeOrder };

export function runStoreContract(name: string, open: () => Promise<Store>) {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let userId: string;
    beforeEach(async (ctx) => {
      store = await open();
      const u = await store.upsertUser({ openid: `o${uniq()}`, unionid: null, sessionKey: 'c2Vzc2lvbmtleQ==', now: 1 });
      userId = u.id;
      ctx.onTestFinished(() => store.close());
    });

    it('upserts users by openid and keeps one id', async () => {
      const openid = `o${uniq()}`;
      const a = await store.upsertUser({ openid, unionid: null, sessionKey: 'k1', now: 1 });
      const b = await store.upsertUser({ openid, unionid: 'union1', sessionKey: 'k2', now: 2 });
      expect(b.id).toBe(a.id);
      expect(b.sessionKey).toBe('k2');
      expect(b.unionid).toBe('union1');
      expect(await store.findUserById(a.id)).toMatchObject({ openid, sessionKey: 'k2' });
    });

    it('stores, finds and deletes sessions', async () => {
      const tokenHash = uniq();
      await store.createSession({ tokenHash, userId, expiresAt: 99 });
      expect(await store.findSession(tokenHash)).toEqual({ tokenHash, userId, expiresAt: 99 });
      expect(await store.findSessionUser(tokenHash)).toEqual({
        session: { tokenHash, userId, expiresAt: 99 },
        user: await store.findUserById(userId),
      });
      await store.deleteSession(tokenHash);
      expect(await store.findSession(tokenHash)).toBeNull();
      expect(await store.findSessionUser(tokenHash)).toBeNull();
    });

    it('reads an order with its payments, refunds and shipment in one call', async () => {
      const { order, attempt } = makeOrder(userId);
      expect(await store.findOrderRecords(order.id)).toBeNull();
      await store.insertOrder(order, attempt);
      expect(await store.findOrderRecords(order.id)).toEqual({
        order: await store.findOrder(order.id),
        payments: [],
        refunds: [],
        shipment: null,
      });
      const pay = {
        transactionId: `42${uniq()}`,
        orderId: order.id,
        outTradeNo: order.outTradeNo,
        amount: order.total,
        kind: 'ORDER' as const,
        paidAt: 5,
      };
      await store.markPaid(order.id, { transactionId: pay.transactionId, paidAt: 5, outTradeNo: order.outTradeNo }, 6, { payment: pay });
      const records = await store.findOrderRecords(order.id);
      expect(records).toMatchObject({ order: { status: 'PAID' }, payments: [{ ...pay, refundReserved: 0 }], refunds: [], shipment: null });
      expect(records!.payments).toEqual(await store.listPayments(order.id));
    });

    it('seeds the catalog idempotently in its order, prices in integer fen', async () => {
      await store.seedProducts(SEED_PRODUCTS);
      await store.seedProducts(SEED_PRODUCTS);
      const products = await store.listProducts();
      expect(products.map((p) => p.sku)).toEqual(SEED_PRODUCTS.map((p) => p.sku));
      for (const p of products) expect(Number.isSafeInteger(p.price)).toBe(true);
    });

    it('inserts an order with its attempt and reads both back', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      expect(await store.findOrder(order.id)).toEqual(order);
      expect(await store.findAttempt(order.outTradeNo)).toEqual(attempt);
      expect((await store.listOrdersByUser(userId, 10)).map((o) => o.id)).toEqual([order.id]);
      expect(await store.findOrder('ord_missing')).toBeNull();
    });

    it('refuses a second order with the same out_trade_no', async () => {
      const first = makeOrder(userId);
      await store.insertOrder(first.order, first.attempt);
      const second = makeOrder(userId, { outTradeNo: first.order.outTradeNo });
      await expect(store.insertOrder(second.order, second.attempt)).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    it('enforces one order per (user, idempotency key) and finds it by the key', async () => {
      const a = makeOrder(userId, { idempotencyKey: 'key-1', requestHash: 'h' });
      await store.insertOrder(a.order, a.attempt);
      const b = makeOrder(userId, { idempotencyKey: 'key-1', requestHash: 'h' });
      const err = await store.insertOrder(b.order, b.attempt).catch((e) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect((err as DuplicateKeyError).index).toBe('idempotency_key');
      expect((await store.findOrderByIdempotencyKey(userId, 'key-1'))?.id).toBe(a.order.id);
      // The same key for another user is another order; no key at all never collides.
      const other = await store.upsertUser({ openid: `o${uniq()}`, unionid: null, sessionKey: 'k', now: 1 });
      const c = makeOrder(other.id, { idempotencyKey: 'key-1' });
      await store.insertOrder(c.order, c.attempt);
      const d1 = makeOrder(userId);
      const d2 = makeOrder(userId);
      await store.insertOrder(d1.order, d1.attempt);
      await store.insertOrder(d2.order, d2.attempt);
    });

    it('allows exactly the transitions the state machine in domain/order.ts writes down', async () => {
      const update = (o: Order) => ({ transactionId: '4200000000000000000000000003', paidAt: 1, outTradeNo: o.outTradeNo });
      const reach = async (status: OrderStatus) => {
        const { order, attempt } = makeOrder(userId);
        await store.insertOrder(order, attempt);
        if (status === 'PAID') await store.markPaid(order.id, update(order), 2);
        if (status === 'CLOSED') await store.markClosed(order.id, 2);
        return order;
      };
      for (const from of ['PENDING', 'PAID', 'CLOSED'] as const) {
        const a = await reach(from);
        expect(await store.markPaid(a.id, update(a), 3), `${from} → PAID`).toBe(canTransition(from, 'PAID'));
        const b = await reach(from);
        expect(await store.markClosed(b.id, 3), `${from} → CLOSED`).toBe(canTransition(from, 'CLOSED'));
      }
    });

    it('moves PENDING → PAID exactly once, even when raced', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      const update = { transactionId: '4200000000000000000000000001', paidAt: 5000, outTradeNo: order.outTradeNo };
      const results = await Promise.all(Array.from({ length: 20 }, () => store.markPaid(order.id, update, 6000)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.findOrder(order.id)).toMatchObject({ status: 'PAID', transactionId: update.transactionId, paidAt: 5000 });
      expect(await store.markClosed(order.id, 7000)).toBe(false);
      expect((await store.findOrder(order.id))?.status).toBe('PAID');
    });

    it('records the payment and its notification with PENDING → PAID, only for the call that moved it', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      const update = { transactionId: `42${uniq()}`, paidAt: 5000, outTradeNo: order.outTradeNo };
      const payment = {
        transactionId: update.transactionId,
        orderId: order.id,
        outTradeNo: order.outTradeNo,
        amount: order.total,
        kind: 'ORDER' as const,
        paidAt: 5000,
      };
      const record = (id: string): NotificationRecord => ({
        id,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: order.outTradeNo,
        transactionId: update.transactionId,
        outcome: 'APPLIED',
        detail: null,
        requestId: null,
        firstReceivedAt: 6000,
        lastReceivedAt: 6000,
        deliveries: 1,
      });
      // Raced by twenty deliveries, each with a notification id of its own: one moves the order and writes.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.markPaid(order.id, update, 6000, {
            payment,
            notification: { record: record(`np-${i}`), replaces: outcomesReplacedBy('APPLIED') },
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.listPayments(order.id)).toEqual([{ ...payment, refundReserved: 0 }]);
      expect(await store.findNotification(`np-${winner}`, order.outTradeNo)).toEqual(record(`np-${winner}`));
      expect(await store.findNotification(`np-${(winner + 1) % 20}`, order.outTradeNo)).toBeNull();
      // A closed order: nothing is written.
      const closed = makeOrder(userId);
      await store.insertOrder(closed.order, closed.attempt);
      await store.markClosed(closed.order.id, 7000);
      expect(
        await store.markPaid(closed.order.id, { ...update, transactionId: `42${uniq()}` }, 8000, {
          payment: { ...payment, orderId: closed.order.id, transactionId: `42${uniq()}` },
          notification: { record: record('np-closed'), replaces: [] },
        }),
      ).toBe(false);
      expect(await store.listPayments(closed.order.id)).toEqual([]);
      expect(await store.findNotification('np-closed', order.outTradeNo)).toBeNull();
    });

    it('moves PENDING → CLOSED once and never reopens', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      expect(await store.markClosed(order.id, 7000)).toBe(true);
      expect(await store.markClosed(order.id, 8000)).toBe(false);
      const update = { transactionId: '4200000000000000000000000002', paidAt: 9000, outTradeNo: order.outTradeNo };
      expect(await store.markPaid(order.id, update, 9000)).toBe(false);
      expect(await store.findOrder(order.id)).toMatchObject({ status: 'CLOSED', closedAt: 7000, transactionId: null });
    });

    it('flags an order for review once, and leaves it out of reconciliation', async () => {
      const { order, attempt } = makeOrder(userId, { createdAt: 10 });
      await store.insertOrder(order, attempt);
      expect(await store.flagForReview(order.id, 'AMOUNT_MISMATCH: expected 9000', 20)).toBe(true);
      expect(await store.flagForReview(order.id, 'APPID_MISMATCH: again', 30)).toBe(false);
      expect(await store.findOrder(order.id)).toMatchObject({ reviewReason: 'AMOUNT_MISMATCH: expected 9000', status: 'PENDING' });
      expect((await store.listReconcileCandidates(100, 100, 1000)).map((o) => o.id)).not.toContain(order.id);
    });

    it('keeps each payment once, and never reserves refunds beyond a payment', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      const pay = {
        transactionId: `42${uniq()}`,
        orderId: order.id,
        outTradeNo: order.outTradeNo,
        amount: 9000,
        kind: 'ORDER' as const,
        paidAt: 5,
      };
      expect(await store.recordPayment(pay)).toBe(true);
      expect(await store.recordPayment({ ...pay, amount: 1 })).toBe(false);
      expect(await store.listPayments(order.id)).toEqual([{ ...pay, refundReserved: 0 }]);
      const refund = (n: number, amount: number, over: Partial<Refund> = {}): Refund => ({
        id: `rf_${uniq()}`,
        orderId: order.id,
        transactionId: pay.transactionId,
        outTradeNo: order.outTradeNo,
        outRefundNo: `RF${uniq()}${n}`,
        amount,
        reason: null,
        status: 'PROCESSING',
        providerRefundId: null,
        idempotencyKey: null,
        failure: null,
        createdAt: 100 + n,
        updatedAt: 100 + n,
        settledAt: null,
        ...over,
      });
      const a = refund(1, 6000, { idempotencyKey: 'k1', reason: '破损' });
      expect(await store.insertRefund(a)).toBe(true);
      expect(await store.findRefund(a.outRefundNo)).toEqual(a);
      expect(await store.findRefundByIdempotencyKey(order.id, 'k1')).toEqual(a);
      await expect(store.insertRefund(refund(2, 1, { idempotencyKey: 'k1' }))).rejects.toMatchObject({ index: 'idempotency_key' });
      await expect(store.insertRefund({ ...refund(3, 1), outRefundNo: a.outRefundNo })).rejects.toMatchObject({ index: 'out_refund_no' });
      expect(await store.insertRefund(refund(4, 3001))).toBe(false); // 6000 + 3001 > 9000
      expect((await store.findPayment(pay.transactionId))?.refundReserved).toBe(6000); // the refused ones reserved nothing
      // Concurrent requests that together exceed the payment: only what fits goes through.
      const many = await Promise.all(Array.from({ length: 10 }, (_, i) => store.insertRefund(refund(10 + i, 1000))));
      expect(many.filter(Boolean)).toHaveLength(3);
      expect((await store.findPayment(pay.transactionId))?.refundReserved).toBe(9000);
      // Forward only; CLOSED gives the amount back, in the same write.
      expect(await store.moveRefund(a.outRefundNo, ['PROCESSING'], 'CLOSED', { failure: 'NOT_ENOUGH' }, true, 200)).toBe(true);
      expect(await store.moveRefund(a.outRefundNo, ['PROCESSING'], 'SUCCESS', { settledAt: 201 }, false, 201)).toBe(false);
      expect(await store.findRefund(a.outRefundNo)).toEqual({ ...a, status: 'CLOSED', failure: 'NOT_ENOUGH', updatedAt: 200 });
      expect((await store.findPayment(pay.transactionId))?.refundReserved).toBe(3000);
      const b = refund(30, 6000);
      expect(await store.insertRefund(b)).toBe(true);
      await store.setRefundProviderId(b.outRefundNo, '50300', 210);
      expect(
        await store.moveRefund(b.outRefundNo, ['PROCESSING'], 'SUCCESS', { settledAt: 220, providerRefundId: '50300' }, false, 220),
      ).toBe(true);
      expect(await store.findRefund(b.outRefundNo)).toEqual({
        ...b,
        status: 'SUCCESS',
        providerRefundId: '50300',
        settledAt: 220,
        updatedAt: 220,
      });
      expect((await store.listRefunds(order.id)).map((r) => r.outRefundNo)).toContain(b.outRefundNo);
      expect((await store.listRefundsInStatus('PROCESSING', 1000, 100)).some((r) => r.outRefundNo === b.outRefundNo)).toBe(false);
      expect((await store.findPayment(pay.transactionId))?.refundReserved).toBe(9000);
    });

    it('lists orders with a payment that must go back', async () => {
      const { order, attempt } = makeOrder(userId, { status: 'CLOSED', createdAt: 50_000 });
      await store.insertOrder(order, attempt);
      const base = { orderId: order.id, outTradeNo: order.outTradeNo, amount: 9000, paidAt: 5 };
      await store.recordPayment({ ...base, transactionId: `42${uniq()}`, kind: 'AFTER_CLOSE' });
      const due = await store.listOrders({ refundDue: true, limit: 100 });
      expect(due.map((o) => o.id)).toContain(order.id);
      expect((await store.listOrders({ status: 'PAID', limit: 100 })).map((o) => o.id)).not.toContain(order.id);
      expect((await store.listOrders({ createdBefore: 50_000, limit: 100 })).map((o) => o.id)).not.toContain(order.id);
    });

    it('records a prepay_id and replaces an attempt only from the expected one', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      await store.setPrepay(attempt.outTradeNo, 'wx_prepay', 123);
      expect(await store.findAttempt(attempt.outTradeNo)).toMatchObject({ prepayId: 'wx_prepay', prepayExpiresAt: 123 });
      const next = { ...attempt, outTradeNo: `N${uniq()}`.slice(0, 32), prepayId: null, prepayExpiresAt: null };
      expect(await store.replaceAttempt(order.id, 'not-current', next, 2000)).toBe(false);
      expect(await store.findAttempt(next.outTradeNo)).toBeNull();
      expect(await store.replaceAttempt(order.id, attempt.outTradeNo, next, 2000)).toBe(true);
      expect((await store.findOrder(order.id))?.outTradeNo).toBe(next.outTradeNo);
      expect((await store.findAttempt(next.outTradeNo))?.orderId).toBe(order.id);
      expect((await store.findAttempt(attempt.outTradeNo))?.orderId).toBe(order.id);
    });

    it('inserts an order leased to its checkout, and releases that lease with the prepay_id', async () => {
      const { order, attempt } = makeOrder(userId, { createdAt: 100 });
      await store.insertOrder(order, attempt, { owner: 'checkout-a', until: 5000 });
      expect(await store.claimOrder(order.id, 'reconciler', 9000, 1000)).toBe(false); // held
      expect((await store.listReconcileCandidates(200, 1000, 1000)).map((o) => o.id)).not.toContain(order.id);
      await store.setPrepay(order.outTradeNo, 'wx_prepay_1', 7000, { orderId: order.id, owner: 'someone-else' });
      expect(await store.claimOrder(order.id, 'reconciler', 9000, 1000)).toBe(false); // not theirs to release
      await store.setPrepay(order.outTradeNo, 'wx_prepay_2', 7000, { orderId: order.id, owner: 'checkout-a' });
      expect(await store.findAttempt(order.outTradeNo)).toMatchObject({ prepayId: 'wx_prepay_2', prepayExpiresAt: 7000 });
      expect(await store.claimOrder(order.id, 'reconciler', 9000, 1000)).toBe(true);
      // Without a lease, an order is free to claim at once.
      const free = makeOrder(userId);
      await store.insertOrder(free.order, free.attempt);
      expect(await store.claimOrder(free.order.id, 'x', 9000, 1000)).toBe(true);
    });

    it('leases pending orders to one owner at a time for reconciliation', async () => {
      const old = makeOrder(userId, { createdAt: 100 });
      const fresh = makeOrder(userId, { createdAt: 5000 });
      await store.insertOrder(old.order, old.attempt);
      await store.insertOrder(fresh.order, fresh.attempt);
      const ids = async (now: number) =>
        (await store.listReconcileCandidates(1000, now, 100)).map((o) => o.id).filter((id) => id === old.order.id || id === fresh.order.id);
      expect(await ids(2000)).toEqual([old.order.id]);
      const claims = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => store.claimOrder(old.order.id, owner, 3000, 2000)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await ids(2500)).toEqual([]); // leased
      expect(await ids(3001)).toEqual([old.order.id]); // lease expired: someone else may take it
      const owner = ['a', 'b', 'c', 'd'][claims.indexOf(true)]!;
      await store.releaseOrder(old.order.id, owner === 'a' ? 'b' : 'a'); // not the owner: no effect
      expect(await store.claimOrder(old.order.id, 'z', 9000, 2600)).toBe(false);
      await store.releaseOrder(old.order.id, owner);
      expect(await store.claimOrder(old.order.id, 'z', 9000, 2600)).toBe(true);
      await store.markClosed(old.order.id, 2700);
      expect(await store.claimOrder(old.order.id, 'y', 99_999, 99_000)).toBe(false); // no longer pending
    });

    it('records notifications once by id and counts repeat deliveries, writing every field', async () => {
      const rec: NotificationRecord = {
        id: `n-${uniq()}`,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: 'T1',
        transactionId: '42',
        outcome: 'UNKNOWN_ORDER',
        detail: 'no order for out_trade_no T1',
        requestId: 'r1',
        firstReceivedAt: 10,
        lastReceivedAt: 10,
        deliveries: 1,
      };
      const first = await store.recordNotification(rec, outcomesReplacedBy(rec.outcome));
      expect(first).toEqual({ duplicate: false, record: rec });
      const applied = { ...rec, outcome: 'APPLIED' as const, detail: null, requestId: 'r2', firstReceivedAt: 20, lastReceivedAt: 20 };
      const again = await store.recordNotification(applied, outcomesReplacedBy('APPLIED'));
      // The first delivery's identity fields stay; the count, the last time, outcome and detail move.
      expect(again).toEqual({ duplicate: true, record: { ...rec, deliveries: 2, lastReceivedAt: 20, outcome: 'APPLIED', detail: null } });
      // A settled outcome is not overwritten by a later one, nor is its detail.
      const later = { ...rec, outcome: 'ALREADY_PAID' as const, detail: 'already paid by 41', lastReceivedAt: 30 };
      const third = await store.recordNotification(later, outcomesReplacedBy('ALREADY_PAID'));
      expect(third.record).toEqual({ ...rec, deliveries: 3, lastReceivedAt: 30, outcome: 'APPLIED', detail: null });
      expect(await store.findNotification(rec.id, rec.outTradeNo)).toEqual(third.record);
      // The same id for another order is another notification.
      expect(await store.findNotification(rec.id, 'OTHER-ORDER')).toBeNull();
      const many = await Promise.all(
        Array.from({ length: 10 }, () => store.recordNotification({ ...rec, id: `${rec.id}-c` }, outcomesReplacedBy(rec.outcome))),
      );
      expect(many.filter((m) => !m.duplicate)).toHaveLength(1);
      expect((await store.findNotification(`${rec.id}-c`, rec.outTradeNo))?.deliveries).toBe(10);
    });

    it('replaces an unsettled outcome together with its detail', async () => {
      // Recorded as UNKNOWN_ORDER, redelivered once the order exists and found to be for another amount.
      const rec: NotificationRecord = {
        id: `n-${uniq()}`,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo: 'T2',
        transactionId: '43',
        outcome: 'UNKNOWN_ORDER',
        detail: 'no order for out_trade_no T2',
        requestId: 'r1',
        firstReceivedAt: 10,
        lastReceivedAt: 10,
        deliveries: 1,
      };
      await store.recordNotification(rec, outcomesReplacedBy(rec.outcome));
      const mismatch = { ...rec, outcome: 'AMOUNT_MISMATCH' as const, detail: 'expected 4500 CNY, reported 1 CNY', lastReceivedAt: 20 };
      const r = await store.recordNotification(mismatch, outcomesReplacedBy(mismatch.outcome));
      expect(r.record).toEqual({
        ...rec,
        deliveries: 2,
        lastReceivedAt: 20,
        outcome: 'AMOUNT_MISMATCH',
        detail: 'expected 4500 CNY, reported 1 CNY',
      });
      // AMOUNT_MISMATCH is settled: a further unsettled outcome changes neither field.
      const r2 = await store.recordNotification(
        { ...rec, outcome: 'MCHID_MISMATCH', detail: 'mchid 1', lastReceivedAt: 30 },
        outcomesReplacedBy('MCHID_MISMATCH'),
      );
      expect(r2.record).toMatchObject({ deliveries: 3, outcome: 'AMOUNT_MISMATCH', detail: 'expected 4500 CNY, reported 1 CNY' });
      // Only what the caller names is replaced: the store decides nothing itself.
      const r3 = await store.recordNotification({ ...rec, outcome: 'IGNORED_EVENT', detail: 'x', lastReceivedAt: 40 }, []);
      expect(r3.record).toMatchObject({
        deliveries: 4,
        outcome: 'AMOUNT_MISMATCH',
        detail: 'expected 4500 CNY, reported 1 CNY',
        lastReceivedAt: 40,
      });
    });

    it('keeps a log of rejected deliveries', async () => {
      const before = await store.countRejectedNotifications();
      await store.recordRejectedNotification({ receivedAt: 1, reason: 'BAD_SIGNATURE', serial: 'X', requestId: null, bodySha256: 'ab' });
      expect(await store.countRejectedNotifications()).toBe(before + 1);
    });
  });
}
