// One contract suite, every adapter: the same tests run against SQLite, MongoDB (a real server where
// there is one; mongoose's queries run by mingo everywhere) and the in-memory store of the fast tier.
// Where a port selects by a domain rule, the suite builds a table of cases and holds the adapter to
// the domain's predicate over it; what a port calls atomic is checked by making one of its writes fail.
import { beforeEach, describe, expect, it } from 'vitest';
import { SEED_PRODUCTS } from '../src/domain/catalog';
import { DuplicateKeyError } from '../src/domain/errors';
import {
  canTransition,
  isReconcileCandidate,
  matchesOrderFilter,
  type Order,
  type OrderLease,
  type OrderStatus,
} from '../src/domain/order';
import { outcomesReplacedBy, type NotificationRecord } from '../src/domain/notification';
import { isRefundToReconcile, type Refund, type RefundStatus } from '../src/domain/refund';
import { needsShipmentSync, type Shipment, type ShipmentStatus, type UploadState } from '../src/domain/shipment';
import { STORE_METHODS, type Store } from '../src/domain/ports/store';
import type { BookDay } from '../src/domain/book-day';
import type { Complaint } from '../src/domain/complaint';
import type { SendCredit } from '../src/domain/subscription';

import { makeOrder, uniq } from './orders-fixture';

export { makeOrder };

/** The records a fault can hit: every write to them fails until cleared. */
export type FaultTarget = 'orders' | 'attempts' | 'payments' | 'refunds' | 'notifications';
export interface ContractFaults {
  failWritesTo(target: FaultTarget): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** The store, with the names of the methods called on it recorded in `called`. */
function tracked(store: Store, called: Set<string>): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop === 'string' && typeof value === 'function') called.add(prop);
      return value;
    },
  });
}

export function runStoreContract(name: string, open: () => Promise<Store>, faultsOf: (store: Store) => ContractFaults) {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let faults: ContractFaults;
    let userId: string;
    const called = new Set<string>();
    beforeEach(async (ctx) => {
      const opened = await open();
      faults = faultsOf(opened);
      store = tracked(opened, called);
      const u = await store.upsertUser({ openid: `o${uniq()}`, unionid: null, sessionKey: 'c2Vzc2lvbmtleQ==', now: 1 });
      userId = u.id;
      ctx.onTestFinished(async () => {
        await faults.clear();
        await store.close();
      });
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

    it("reads a page of orders' records in one call, each order's own, in the page's order", async () => {
      const page = Array.from({ length: 3 }, () => makeOrder(userId));
      for (const { order, attempt } of page) await store.insertOrder(order, attempt);
      const [paid, plain, shipped] = page.map((p) => p.order);
      const pay = (o: Order, n: number) => ({
        transactionId: `42${uniq()}${n}`,
        orderId: o.id,
        outTradeNo: o.outTradeNo,
        amount: o.total,
        kind: 'ORDER' as const,
        paidAt: 5 + n,
      });
      const p1 = pay(paid!, 1);
      await store.markPaid(paid!.id, { transactionId: p1.transactionId, paidAt: 6, outTradeNo: paid!.outTradeNo }, 6, { payment: p1 });
      const p2 = pay(shipped!, 2);
      await store.markPaid(shipped!.id, { transactionId: p2.transactionId, paidAt: 7, outTradeNo: shipped!.outTradeNo }, 7, {
        payment: p2,
      });
      await store.recordPayment({ ...pay(shipped!, 3), kind: 'DUPLICATE' });
      await store.saveShipment(shipment(shipped!.id), null);
      // The page as a list gave it (in whatever order), and the records of exactly those orders.
      const listed = new Map((await store.listOrdersByUser(userId, 100)).map((o) => [o.id, o]));
      const orders = [shipped!, plain!, paid!].map((o) => listed.get(o.id)!);
      const records = await store.findRecordsOfOrders(orders);
      expect(records.map((r) => r.order.id)).toEqual(orders.map((o) => o.id));
      for (const r of records) expect(r).toEqual(await store.findOrderRecords(r.order.id));
      expect(records[0]!.payments).toHaveLength(2);
      expect(records[0]!.shipment).toMatchObject({ orderId: shipped!.id });
      expect(records[1]).toMatchObject({ payments: [], refunds: [], shipment: null });
      expect(await store.findRecordsOfOrders([])).toEqual([]);
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
      expect((await store.listRefundsToReconcile(1000, 100)).some((r) => r.outRefundNo === b.outRefundNo)).toBe(false);
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

    it('keeps a bounded log of rejected deliveries, the newest kept', async () => {
      const before = await store.countRejectedNotifications();
      for (let i = 0; i < 5; i++)
        await store.recordRejectedNotification({
          receivedAt: 10_000 + i,
          reason: 'BAD_SIGNATURE',
          serial: 'X',
          requestId: null,
          bodySha256: `ab${i}`,
        });
      expect(await store.countRejectedNotifications()).toBe(before + 5);
      await store.trimRejectedNotifications(2);
      expect(await store.countRejectedNotifications()).toBe(2);
    });

    it('lets a key be used once until its use expires, however many race for it', async () => {
      const key = `push:${uniq()}`;
      const tries = await Promise.all(Array.from({ length: 10 }, () => store.claimOnce(key, 2000, 1000)));
      expect(tries.filter(Boolean)).toHaveLength(1);
      expect(await store.claimOnce(key, 3000, 1999)).toBe(false); // still in use
      expect(await store.claimOnce(key, 3000, 2000)).toBe(true); // expired at 2000: free again, now until 3000
      await store.releaseClaim(key);
      expect(await store.claimOnce(key, 4000, 2500)).toBe(true); // forgotten: free at once
      const other = `push:${uniq()}`;
      await store.claimOnce(other, 1500, 1000);
      expect(await store.purgeClaims(3000)).toBeGreaterThanOrEqual(1); // `other` (1500) went; `key` (4000) stays
      expect(await store.claimOnce(key, 5000, 3500)).toBe(false);
      expect(await store.claimOnce(other, 5000, 3500)).toBe(true);
    });

    it("keeps the operator's sessions: found by hash, touched forward only, deleted, purged when too old or idle", async () => {
      const a = { idHash: `h${uniq()}`, tokenFingerprint: 'fp1', createdAt: 1000, lastSeenAt: 1000 };
      const b = { idHash: `h${uniq()}`, tokenFingerprint: 'fp1', createdAt: 1000, lastSeenAt: 1000 };
      const c = { idHash: `h${uniq()}`, tokenFingerprint: 'fp1', createdAt: 5000, lastSeenAt: 5000 };
      for (const x of [a, b, c]) await store.createOpsSession(x);
      expect(await store.findOpsSession(a.idHash)).toEqual(a);
      await store.touchOpsSession(a.idHash, 4000);
      await store.touchOpsSession(a.idHash, 3000); // an older use never moves it back
      expect((await store.findOpsSession(a.idHash))?.lastSeenAt).toBe(4000);
      await store.deleteOpsSession(b.idHash);
      expect(await store.findOpsSession(b.idHash)).toBeNull();
      // Created at or before 900, or idle since 4500 or before: a (seen 4000) goes, c (created 5000) stays.
      expect(await store.purgeOpsSessions(900, 4500)).toBeGreaterThanOrEqual(1);
      expect(await store.findOpsSession(a.idHash)).toBeNull();
      expect(await store.findOpsSession(c.idHash)).toEqual(c);
      expect(await store.findOpsSession('missing')).toBeNull();
    });

    it('ends sessions: one, all of a user, and the expired', async () => {
      const other = await store.upsertUser({ openid: `o${uniq()}`, unionid: null, sessionKey: 'k', now: 1 });
      const make = (user: string, expiresAt: number) => ({ tokenHash: uniq(), userId: user, expiresAt });
      const mine = [make(userId, 100), make(userId, 5000), make(userId, 9000)];
      const theirs = [make(other.id, 100), make(other.id, 9000)];
      for (const s of [...mine, ...theirs]) await store.createSession(s);
      await expect(store.createSession(mine[0]!)).rejects.toMatchObject({ name: 'DuplicateKeyError', index: 'token' });
      expect(await store.purgeExpiredSessions(100)).toBe(2); // at or before: both of 100
      expect(await store.findSession(mine[0]!.tokenHash)).toBeNull();
      expect(await store.findSession(mine[1]!.tokenHash)).not.toBeNull();
      expect(await store.deleteSessionsOfUser(userId)).toBe(2);
      expect(await store.findSessionUser(mine[2]!.tokenHash)).toBeNull();
      expect(await store.findSession(theirs[1]!.tokenHash)).toEqual(theirs[1]);
      expect(await store.findUserById('u_missing')).toBeNull();
    });

    it("lists an order's attempts and the notifications naming them, oldest first", async () => {
      const made = makeOrder(userId, { createdAt: 10 });
      const { order } = made;
      const attempt = { ...made.attempt, createdAt: 10 };
      await store.insertOrder(order, attempt);
      const second = { ...attempt, outTradeNo: `N${uniq()}`.slice(0, 32), createdAt: 20 };
      expect(await store.replaceAttempt(order.id, attempt.outTradeNo, second, 20)).toBe(true);
      expect((await store.listAttempts(order.id)).map((a) => a.outTradeNo)).toEqual([attempt.outTradeNo, second.outTradeNo]);
      const rec = (id: string, outTradeNo: string, at: number): NotificationRecord => ({
        id,
        eventType: 'TRANSACTION.SUCCESS',
        outTradeNo,
        transactionId: null,
        outcome: 'UNKNOWN_ORDER',
        detail: null,
        requestId: null,
        firstReceivedAt: at,
        lastReceivedAt: at,
        deliveries: 1,
      });
      const ids = [`n-${uniq()}`, `n-${uniq()}`, `n-${uniq()}`];
      await store.recordNotification(rec(ids[1]!, second.outTradeNo, 200), []);
      await store.recordNotification(rec(ids[0]!, attempt.outTradeNo, 100), []);
      await store.recordNotification(rec(ids[2]!, 'SOMEONE-ELSE', 50), []);
      expect((await store.listNotificationsFor([attempt.outTradeNo, second.outTradeNo])).map((n) => n.id)).toEqual([ids[0], ids[1]]);
      // A reference already used is refused, and the order keeps its current attempt.
      const clash = { ...second, createdAt: 30 };
      await expect(store.replaceAttempt(order.id, second.outTradeNo, clash, 30)).rejects.toMatchObject({ index: 'out_trade_no' });
      expect((await store.findOrder(order.id))?.outTradeNo).toBe(second.outTradeNo);
    });

    it('saves a shipment by version: the first insert wins, a stale version loses', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      const s = shipment(order.id, { version: 1 });
      expect(await store.findShipment(order.id)).toBeNull();
      const firsts = await Promise.all([store.saveShipment(s, null), store.saveShipment({ ...s, itemDesc: 'other' }, null)]);
      expect(firsts.filter(Boolean)).toHaveLength(1);
      const stored = (await store.findShipment(order.id))!;
      const next = { ...stored, upload: 'ACCEPTED' as const, version: 2, updatedAt: 5 };
      const seconds = await Promise.all([store.saveShipment(next, 1), store.saveShipment({ ...next, upload: 'REFUSED' }, 1)]);
      expect(seconds.filter(Boolean)).toHaveLength(1);
      expect(await store.saveShipment({ ...next, version: 3 }, 1)).toBe(false); // stale
      expect((await store.findShipment(order.id))?.version).toBe(2);
      expect(await store.findOrderRecords(order.id)).toMatchObject({ shipment: { version: 2 } });
    });

    it('selects shipments to sync exactly as needsShipmentSync says, least recently updated first', async () => {
      const now = 5000;
      const cases: Shipment[] = [];
      let at = 1000;
      for (const upload of ['PENDING', 'ACCEPTED', 'REFUSED'] as UploadState[])
        for (const status of ['SHIPPED', 'RECEIVED', 'COMPLETED'] as ShipmentStatus[])
          for (const uploadClaim of [null, { owner: 'live', until: now + 1 }, { owner: 'lapsed', until: now }]) {
            const { order, attempt } = makeOrder(userId);
            await store.insertOrder(order, attempt);
            at -= 10; // each older than the one before
            const s = shipment(order.id, { upload, status, uploadClaim, updatedAt: at });
            expect(await store.saveShipment(s, null)).toBe(true);
            cases.push(s);
          }
      const ours = new Set(cases.map((c) => c.orderId));
      const selected = (await store.listShipmentsToSync(now, 10_000)).filter((s) => ours.has(s.orderId));
      const expected = cases.filter((s) => needsShipmentSync(s, now)).sort((a, b) => a.updatedAt - b.updatedAt);
      const label = (s: Shipment) => `${s.upload}/${s.status}/${s.uploadClaim?.owner ?? 'none'}`;
      expect(selected.map(label)).toEqual(expected.map(label));
      // The branches, each on its own: a PENDING upload of a completed shipment is sent again; an accepted one is
      // left alone; one an upload holds is left alone until the hold lapses.
      expect(selected.some((s) => s.upload === 'PENDING' && s.status === 'COMPLETED')).toBe(true);
      expect(selected.some((s) => s.upload === 'ACCEPTED' && s.status === 'COMPLETED')).toBe(false);
      expect(selected.some((s) => s.uploadClaim?.owner === 'live')).toBe(false);
      expect(selected.some((s) => s.uploadClaim?.owner === 'lapsed')).toBe(true);
      expect(await store.listShipmentsToSync(now, 1)).toHaveLength(1);
    });

    it('selects orders to reconcile exactly as isReconcileCandidate says, oldest first', async () => {
      const at = { createdBefore: 1000, now: 2000 };
      const leases: Record<string, OrderLease | null> = {
        none: null,
        held: { owner: 'holder', until: 3000 },
        expired: { owner: 'gone', until: 1500 },
      };
      const cases: { id: string; lease: OrderLease | null }[] = [];
      let i = 0;
      for (const status of ['PENDING', 'PAID', 'CLOSED'] as OrderStatus[])
        for (const createdAt of [100, 5000])
          for (const lease of Object.values(leases))
            for (const flagged of [false, true]) {
              const { order, attempt } = makeOrder(userId, { createdAt: createdAt + i++ });
              await store.insertOrder(order, attempt, lease ?? undefined);
              if (flagged) await store.flagForReview(order.id, 'AMOUNT_MISMATCH: test', 10);
              if (status === 'PAID')
                await store.markPaid(order.id, { transactionId: `42${uniq()}`, paidAt: 10, outTradeNo: order.outTradeNo }, 10);
              if (status === 'CLOSED') await store.markClosed(order.id, 10);
              cases.push({ id: order.id, lease });
            }
      const ours = new Set(cases.map((c) => c.id));
      const selected = (await store.listReconcileCandidates(at.createdBefore, at.now, 10_000))
        .map((o) => o.id)
        .filter((id) => ours.has(id));
      const expected: string[] = [];
      for (const c of cases) if (isReconcileCandidate((await store.findOrder(c.id))!, c.lease, at)) expected.push(c.id);
      expect(expected).toHaveLength(2); // PENDING, old, not flagged: unleased and with an expired lease
      expect(selected).toEqual(expected); // created in this order: oldest first
    });

    it("lists the operator's orders exactly as matchesOrderFilter says, newest first", async () => {
      const ids: string[] = [];
      const add = async (
        createdAt: number,
        status: OrderStatus,
        pays: { kind: 'ORDER' | 'DUPLICATE' | 'AFTER_CLOSE'; reserve?: number; release?: boolean }[],
      ) => {
        const { order, attempt } = makeOrder(userId, { createdAt });
        await store.insertOrder(order, attempt);
        if (status === 'PAID')
          await store.markPaid(order.id, { transactionId: `42${uniq()}`, paidAt: 10, outTradeNo: order.outTradeNo }, 10);
        if (status === 'CLOSED') await store.markClosed(order.id, 10);
        for (const p of pays) {
          const transactionId = `42${uniq()}`;
          await store.recordPayment({
            transactionId,
            orderId: order.id,
            outTradeNo: order.outTradeNo,
            amount: 9000,
            kind: p.kind,
            paidAt: 20,
          });
          if (p.reserve) {
            const r = refundOf(order, transactionId, p.reserve);
            expect(await store.insertRefund(r)).toBe(true);
            if (p.release) await store.moveRefund(r.outRefundNo, ['PROCESSING'], 'CLOSED', { failure: 'x' }, true, 30);
          }
        }
        ids.push(order.id);
      };
      await add(100, 'PENDING', []);
      await add(200, 'PAID', [{ kind: 'ORDER' }]);
      await add(300, 'PAID', [{ kind: 'ORDER' }, { kind: 'DUPLICATE' }]);
      await add(400, 'CLOSED', [{ kind: 'AFTER_CLOSE', reserve: 9000 }]);
      await add(500, 'CLOSED', [{ kind: 'AFTER_CLOSE', reserve: 4000 }]);
      await add(600, 'PAID', [{ kind: 'ORDER' }, { kind: 'DUPLICATE', reserve: 9000, release: true }]);
      const records = await Promise.all(
        ids.map(async (id) => ({ order: (await store.findOrder(id))!, payments: await store.listPayments(id) })),
      );
      const ours = new Set(ids);
      for (const status of [undefined, 'PENDING', 'PAID', 'CLOSED'] as const)
        for (const refundDue of [undefined, false, true])
          for (const createdBefore of [undefined, 350]) {
            const f = { status, refundDue, createdBefore };
            const listed = (await store.listOrders({ ...f, limit: 10_000 })).map((o) => o.id).filter((id) => ours.has(id));
            const expected = records
              .filter((r) => matchesOrderFilter(r.order, r.payments, f))
              .map((r) => r.order.id)
              .reverse();
            expect(listed, JSON.stringify(f)).toEqual(expected);
          }
      expect((await store.listOrders({ refundDue: true, limit: 10_000 })).filter((o) => ours.has(o.id)).map((o) => o.createdAt)).toEqual([
        600, 500, 300,
      ]);
    });

    it('selects refunds to reconcile exactly as isRefundToReconcile says, oldest first', async () => {
      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      const transactionId = `42${uniq()}`;
      await store.recordPayment({
        transactionId,
        orderId: order.id,
        outTradeNo: order.outTradeNo,
        amount: 100_000,
        kind: 'ORDER',
        paidAt: 5,
      });
      const made: Refund[] = [];
      let i = 0;
      for (const status of ['PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL'] as RefundStatus[])
        for (const createdAt of [100, 5000]) {
          const r = { ...refundOf(order, transactionId, 10), createdAt: createdAt + i++ };
          expect(await store.insertRefund(r)).toBe(true);
          if (status !== 'PROCESSING') await store.moveRefund(r.outRefundNo, ['PROCESSING'], status, {}, status === 'CLOSED', 50);
          made.push({ ...r, status });
        }
      const ours = new Set(made.map((r) => r.outRefundNo));
      const selected = (await store.listRefundsToReconcile(1000, 10_000)).filter((r) => ours.has(r.outRefundNo)).map((r) => r.outRefundNo);
      expect(selected).toEqual(made.filter((r) => isRefundToReconcile(r, 1000)).map((r) => r.outRefundNo));
      expect(selected).toHaveLength(1);
    });

    describe('writes the ports call atomic are all or nothing', () => {
      const paidOrder = async () => {
        const { order, attempt } = makeOrder(userId);
        await store.insertOrder(order, attempt);
        const transactionId = `42${uniq()}`;
        await store.markPaid(order.id, { transactionId, paidAt: 5, outTradeNo: order.outTradeNo }, 6, {
          payment: { transactionId, orderId: order.id, outTradeNo: order.outTradeNo, amount: 9000, kind: 'ORDER', paidAt: 5 },
        });
        return { order, transactionId };
      };

      for (const target of ['payments', 'notifications'] as const)
        it(`markPaid with its payment and notification, when writing ${target} fails`, async () => {
          const { order, attempt } = makeOrder(userId);
          await store.insertOrder(order, attempt);
          const transactionId = `42${uniq()}`;
          const record: NotificationRecord = {
            id: `n-${uniq()}`,
            eventType: 'TRANSACTION.SUCCESS',
            outTradeNo: order.outTradeNo,
            transactionId,
            outcome: 'APPLIED',
            detail: null,
            requestId: null,
            firstReceivedAt: 6,
            lastReceivedAt: 6,
            deliveries: 1,
          };
          const also = {
            payment: { transactionId, orderId: order.id, outTradeNo: order.outTradeNo, amount: 9000, kind: 'ORDER' as const, paidAt: 5 },
            notification: { record, replaces: outcomesReplacedBy('APPLIED') },
          };
          await faults.failWritesTo(target);
          await expect(store.markPaid(order.id, { transactionId, paidAt: 5, outTradeNo: order.outTradeNo }, 6, also)).rejects.toThrow();
          await faults.clear();
          // None of it: the order is still PENDING, with no payment and no notification recorded.
          expect((await store.findOrder(order.id))?.status).toBe('PENDING');
          expect(await store.listPayments(order.id)).toEqual([]);
          expect(await store.findNotification(record.id, order.outTradeNo)).toBeNull();
          // All of it, once the fault is gone (WeChat's next delivery).
          expect(await store.markPaid(order.id, { transactionId, paidAt: 5, outTradeNo: order.outTradeNo }, 6, also)).toBe(true);
          expect(await store.listPayments(order.id)).toHaveLength(1);
          expect(await store.findNotification(record.id, order.outTradeNo)).toMatchObject({ outcome: 'APPLIED' });
        });

      it('insertRefund with its reservation, when writing the refund fails', async () => {
        const { order, transactionId } = await paidOrder();
        await faults.failWritesTo('refunds');
        await expect(store.insertRefund(refundOf(order, transactionId, 3000))).rejects.toThrow();
        await faults.clear();
        expect((await store.findPayment(transactionId))?.refundReserved).toBe(0);
        expect(await store.listRefunds(order.id)).toEqual([]);
      });

      it('moveRefund with its release, when writing the payment fails', async () => {
        const { order, transactionId } = await paidOrder();
        const r = refundOf(order, transactionId, 3000);
        await store.insertRefund(r);
        await faults.failWritesTo('payments');
        await expect(store.moveRefund(r.outRefundNo, ['PROCESSING'], 'CLOSED', { failure: 'x' }, true, 40)).rejects.toThrow();
        await faults.clear();
        expect((await store.findRefund(r.outRefundNo))?.status).toBe('PROCESSING');
        expect((await store.findPayment(transactionId))?.refundReserved).toBe(3000);
      });

      it('insertOrder with its attempt, when writing the attempt fails', async () => {
        const { order, attempt } = makeOrder(userId);
        await faults.failWritesTo('attempts');
        await expect(store.insertOrder(order, attempt)).rejects.toThrow();
        await faults.clear();
        expect(await store.findOrder(order.id)).toBeNull();
        expect(await store.findAttempt(attempt.outTradeNo)).toBeNull();
      });

      it('replaceAttempt with its new attempt, when writing the attempt fails', async () => {
        const { order, attempt } = makeOrder(userId);
        await store.insertOrder(order, attempt);
        const next = { ...attempt, outTradeNo: `N${uniq()}`.slice(0, 32) };
        await faults.failWritesTo('attempts');
        await expect(store.replaceAttempt(order.id, attempt.outTradeNo, next, 50)).rejects.toThrow();
        await faults.clear();
        expect((await store.findOrder(order.id))?.outTradeNo).toBe(attempt.outTradeNo);
        expect(await store.findAttempt(next.outTradeNo)).toBeNull();
      });

      it('setPrepay with the release of its lease, when writing the order fails', async () => {
        const { order, attempt } = makeOrder(userId);
        await store.insertOrder(order, attempt, { owner: 'checkout-x', until: 9000 });
        await faults.failWritesTo('orders');
        await expect(store.setPrepay(attempt.outTradeNo, 'wx_prepay', 7000, { orderId: order.id, owner: 'checkout-x' })).rejects.toThrow();
        await faults.clear();
        expect((await store.findAttempt(attempt.outTradeNo))?.prepayId).toBeNull();
        expect(await store.claimOrder(order.id, 'other', 9500, 1000)).toBe(false); // still held
      });
    });

    it("keeps a day's books whole, replaced by a re-run, and lists a day's payments and refunds page by page", async () => {
      const day = (date: string, status: BookDay['status'], lines: number): BookDay => ({
        date,
        status,
        reconciledAt: 1,
        noBill: false,
        lines,
        matched: lines,
        totals: { wechat: { payments: 100, refunds: 0, fees: 1, net: 99 }, ours: { payments: 100, refunds: 0 } },
        discrepancies: status === 'BALANCED' ? [] : [{ kind: 'MISSING_AT_WECHAT', outTradeNo: 'A1', ours: 100, repaired: false }],
      });
      const year = 2100 + Math.floor(Math.random() * 800); // a range of dates no other test uses
      await store.saveBookDay(day(`${year}-01-02`, 'DISCREPANCIES', 3));
      await store.saveBookDay(day(`${year}-01-01`, 'BALANCED', 1));
      await store.saveBookDay(day(`${year}-01-05`, 'BALANCED', 1));
      await store.saveBookDay(day(`${year}-01-02`, 'BALANCED', 4)); // the re-run replaces the day
      expect(await store.findBookDay(`${year}-01-02`)).toEqual(day(`${year}-01-02`, 'BALANCED', 4));
      expect(await store.findBookDay(`${year}-01-03`)).toBeNull();
      expect((await store.listBookDays(`${year}-01-01`, `${year}-01-02`)).map((d) => d.date)).toEqual([`${year}-01-02`, `${year}-01-01`]);

      const { order, attempt } = makeOrder(userId);
      await store.insertOrder(order, attempt);
      const base = 7_000_000_000_000 + Math.floor(Math.random() * 1e9) * 1000; // a time range of its own
      const payments = [30, 10, 10, 0, 40].map((t, i) => ({
        // two at one instant: the key breaks the tie
        transactionId: `42${uniq()}${i}`,
        orderId: order.id,
        outTradeNo: order.outTradeNo,
        amount: 1000 + i,
        kind: 'DUPLICATE' as const,
        paidAt: base + t,
      }));
      for (const p of payments) await store.recordPayment(p);
      const cursor = (p: { paidAt: number; transactionId: string }) => ({ at: p.paidAt, key: p.transactionId });
      const inDay = payments
        .filter((p) => p.paidAt < base + 40)
        .sort((a, b) => a.paidAt - b.paidAt || (a.transactionId < b.transactionId ? -1 : 1));
      const first = await store.listPaymentsPaidBetween(base, base + 40, null, 3);
      expect(first.map((p) => p.transactionId)).toEqual(inDay.slice(0, 3).map((p) => p.transactionId));
      const rest = await store.listPaymentsPaidBetween(base, base + 40, cursor(first[2]!), 3);
      expect(rest.map((p) => p.transactionId)).toEqual(inDay.slice(3).map((p) => p.transactionId));
      const refunds = [15, 5, 45].map(
        (t, i): Refund => ({
          id: `rf_${uniq()}`,
          orderId: order.id,
          transactionId: payments[i]!.transactionId,
          outTradeNo: order.outTradeNo,
          outRefundNo: `RF${uniq()}${i}`,
          amount: 10,
          reason: null,
          status: 'PROCESSING',
          providerRefundId: null,
          idempotencyKey: null,
          failure: null,
          createdAt: base + t,
          updatedAt: base + t,
          settledAt: null,
        }),
      );
      for (const r of refunds) expect(await store.insertRefund(r)).toBe(true);
      const listed = await store.listRefundsCreatedBetween(base, base + 40, null, 10);
      expect(listed).toEqual([refunds[1], refunds[0]]);
      expect(await store.listRefundsCreatedBetween(base, base + 40, { at: listed[1]!.createdAt, key: listed[1]!.outRefundNo }, 10)).toEqual(
        [],
      );

      // A bill's keys staged under a run: our records it did not name, paged as before; another run sees none of them.
      const run = `${year}-01-01/${uniq()}`;
      await store.stageBillKeys(run, [inDay[0]!.transactionId, inDay[2]!.transactionId, listed[0]!.outRefundNo]);
      await store.stageBillKeys(run, [inDay[0]!.transactionId]); // again: no harm
      const missing = [inDay[1]!, inDay[3]!];
      expect((await store.listPaymentsPaidBetween(base, base + 40, null, 1, run)).map((p) => p.transactionId)).toEqual([
        missing[0]!.transactionId,
      ]);
      expect((await store.listPaymentsPaidBetween(base, base + 40, cursor(missing[0]!), 1, run)).map((p) => p.transactionId)).toEqual([
        missing[1]!.transactionId,
      ]);
      expect((await store.listPaymentsPaidBetween(base, base + 40, null, 10, `${run}-other`)).length).toBe(4);
      expect(await store.listRefundsCreatedBetween(base, base + 40, null, 10, run)).toEqual([listed[1]]);
      await store.dropBillKeys(run);
      expect((await store.listPaymentsPaidBetween(base, base + 40, null, 10, run)).length).toBe(4);
    });

    it('keeps complaints by conditional writes, and lists open ones first by deadline', async () => {
      const base = (id: string, over: Partial<Complaint> = {}): Complaint => ({
        id,
        source: 'PAY',
        providerId: id.slice(4),
        orderId: `ord_${id}`,
        outTradeNo: null,
        transactionId: null,
        state: 'NEW',
        deadline: 5000,
        problem: '申请退款',
        refundRequested: null,
        refundDecision: null,
        payerPhoneSealed: null,
        events: [],
        createdAt: 1000,
        updatedAt: 1000,
        version: 1,
        ...over,
      });
      const tag = uniq();
      const a = base(`PAY:a${tag}`, { deadline: 9000 });
      expect(await store.saveComplaint(a, null)).toBe(true);
      expect(await store.saveComplaint(a, null)).toBe(false); // one already exists
      expect(await store.saveComplaint(base(`PAY:b${tag}`, { deadline: 3000 }), null)).toBe(true);
      expect(await store.saveComplaint(base(`PAY:c${tag}`, { state: 'RESOLVED', deadline: null, createdAt: 2000 }), null)).toBe(true);
      const moved = { ...a, state: 'IN_PROGRESS' as const, version: 2 };
      expect(await store.saveComplaint(moved, 1)).toBe(true);
      expect(await store.saveComplaint({ ...a, version: 2 }, 1)).toBe(false); // stale: someone moved it
      expect(await store.findComplaint(a.id)).toEqual(moved);
      expect(await store.findComplaint(`PAY:none${tag}`)).toBeNull();
      const mine = (await store.listComplaints({ limit: 1000 })).filter((c) => c.id.endsWith(tag)).map((c) => c.id);
      expect(mine).toEqual([`PAY:b${tag}`, `PAY:a${tag}`, `PAY:c${tag}`]);
      expect((await store.listComplaints({ state: 'IN_PROGRESS', limit: 1000 })).map((c) => c.id)).toContain(a.id);
      expect((await store.listComplaints({ orderId: `ord_PAY:b${tag}`, limit: 5 })).map((c) => c.id)).toEqual([`PAY:b${tag}`]);
    });

    it('keeps send credits: one per order and kind, saved by conditional writes, listed when sendable', async () => {
      const tag = uniq();
      const credit = (kind: SendCredit['kind'], over: Partial<SendCredit> = {}): SendCredit => ({
        id: `ord_${tag}:${kind}`,
        orderId: `ord_${tag}`,
        kind,
        openid: 'o1',
        templateId: 't1',
        state: 'AVAILABLE',
        claimUntil: null,
        attempts: 0,
        lastError: null,
        sentAt: null,
        createdAt: 8_000_000_000_000 + (kind === 'paid' ? 0 : 1),
        version: 1,
        ...over,
      });
      expect(await store.insertCredit(credit('paid'))).toBe(true);
      expect(await store.insertCredit(credit('paid', { templateId: 'other' }))).toBe(false); // the first stands
      expect(await store.insertCredit(credit('shipped'))).toBe(true);
      const claimed = { ...credit('paid'), state: 'SENDING' as const, claimUntil: 500, version: 2 };
      expect(await store.saveCredit(claimed, 1)).toBe(true);
      expect(await store.saveCredit({ ...claimed, version: 2 }, 1)).toBe(false); // another sender took it first
      expect((await store.listCredits(`ord_${tag}`)).map((c) => [c.kind, c.state, c.templateId])).toEqual([
        ['paid', 'SENDING', 't1'],
        ['shipped', 'AVAILABLE', 't1'],
      ]);
      const mine = async (now: number) =>
        (await store.listCreditsToSend(now, 10_000)).filter((c) => c.orderId === `ord_${tag}`).map((c) => c.kind);
      expect(await mine(400)).toEqual(['shipped']); // the claim holds until 500
      expect(await mine(500)).toEqual(['paid', 'shipped']); // then the claim has run out
      expect(await store.saveCredit({ ...claimed, state: 'SENT', claimUntil: null, version: 3 }, 2)).toBe(true);
      expect(await mine(600)).toEqual(['shipped']);
    });

    it('has been called on every method of the ports (this test runs last)', () => {
      expect(Object.keys(STORE_METHODS).filter((m) => !called.has(m))).toEqual([]);
    });
  });
}

/** A shipment as the domain writes one. */
export function shipment(orderId: string, over: Partial<Shipment> = {}): Shipment {
  return {
    orderId,
    merchantId: '1900000109',
    status: 'SHIPPED',
    logisticsType: 'express',
    packages: [{ carrier: 'SF', carrierName: '顺丰速运', trackingNo: 'SF1234567890' }],
    allDelivered: true,
    itemDesc: '陶瓷马克杯*2',
    shipCount: 1,
    upload: 'PENDING',
    uploadTime: 1,
    uploadAttempts: 0,
    refusal: null,
    wechatState: null,
    version: 1,
    createdAt: 1,
    updatedAt: 1,
    receivedAt: null,
    completedAt: null,
    ...over,
  };
}

/** A PROCESSING refund of `amount` against one of the order's payments. */
function refundOf(order: Order, transactionId: string, amount: number): Refund {
  const now = 100;
  return {
    id: `rf_${uniq()}`,
    orderId: order.id,
    transactionId,
    outTradeNo: order.outTradeNo,
    outRefundNo: `RF${uniq()}`,
    amount,
    reason: null,
    status: 'PROCESSING',
    providerRefundId: null,
    idempotencyKey: null,
    failure: null,
    createdAt: now,
    updatedAt: now,
    settledAt: null,
  };
}
