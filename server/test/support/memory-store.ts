// The ports in memory, for the fast tier: use-case tests run against this instead of a database. It passes
// the same contract suite as the real adapters, and it selects with the domain's own predicates, so it
// states no rule of its own. Every multi-record write checks its faults first and then changes everything
// at once: all or nothing, as the ports promise.
import crypto from 'node:crypto';
import type { Product } from '../../src/domain/catalog';
import { DuplicateKeyError, StoreUnavailableError } from '../../src/domain/errors';
import type { NotificationRecord, RejectedNotification } from '../../src/domain/notification';
import { isReconcileCandidate, matchesOrderFilter, type Order, type OrderLease, type PaymentAttempt } from '../../src/domain/order';
import type { Store } from '../../src/domain/ports/store';
import { isRefundToReconcile, type PaymentRecord, type Refund } from '../../src/domain/refund';
import { needsShipmentSync, type Shipment } from '../../src/domain/shipment';
import type { Session, User } from '../../src/domain/user';
import type { OpsSession } from '../../src/domain/ops-session';
import type { BookDay } from '../../src/domain/book-day';
import { byUrgency, type Complaint } from '../../src/domain/complaint';
import { isSendable, type SendCredit } from '../../src/domain/subscription';

export type MemoryTable = 'users' | 'sessions' | 'orders' | 'attempts' | 'payments' | 'refunds' | 'notifications' | 'shipments';

export interface MemoryStore extends Store {
  /** Every write touching `table` fails (StoreUnavailableError) until cleared: nothing of that write happens. */
  failWritesTo(table: MemoryTable): void;
  clearFaults(): void;
}

const copy = <T>(v: T): T => structuredClone(v);
/** After a page's cursor, in (time, key) order. */
const afterCursor = (at: number, key: string, c: { at: number; key: string }) => at > c.at || (at === c.at && key > c.key);
const byTime =
  <T>(key: (x: T) => number, dir = 1) =>
  (a: T, b: T) =>
    dir * (key(a) - key(b));

export function createMemoryStore(): MemoryStore {
  const users = new Map<string, User>();
  const sessions = new Map<string, Session>();
  const products = new Map<string, Product>();
  const orders = new Map<string, { order: Order; lease: OrderLease | null }>();
  const attempts = new Map<string, PaymentAttempt>();
  const payments = new Map<string, PaymentRecord>();
  const refunds = new Map<string, Refund>();
  const notifications = new Map<string, NotificationRecord>();
  const rejected: RejectedNotification[] = [];
  const shipments = new Map<string, Shipment>();
  const usedKeys = new Map<string, number>();
  const opsSessions = new Map<string, OpsSession>();
  const books = new Map<string, BookDay>();
  const complaints = new Map<string, Complaint>();
  const credits = new Map<string, SendCredit>();
  const billKeys = new Map<string, Set<string>>();
  const failing = new Set<MemoryTable>();
  let closed = false;

  /** Before a write: the store is open and none of the tables it touches is failing. */
  const writing = (...tables: MemoryTable[]) => {
    if (closed) throw new StoreUnavailableError(new Error('closed'));
    for (const t of tables) if (failing.has(t)) throw new StoreUnavailableError(new Error(`injected fault writing ${t}`));
  };
  const reading = () => {
    if (closed) throw new StoreUnavailableError(new Error('closed'));
  };
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  const read = <T>(fn: () => T): Promise<T> =>
    run(() => {
      reading();
      return fn();
    });
  const write = <T>(tables: MemoryTable[], fn: () => T): Promise<T> =>
    run(() => {
      writing(...tables);
      return fn();
    });
  const order = (id: string) => orders.get(id)?.order;
  const notificationKey = (id: string, outTradeNo: string | null) => `${id} ${outTradeNo ?? ''}`;
  const paymentsOf = (orderId: string) =>
    [...payments.values()]
      .filter((p) => p.orderId === orderId)
      .sort((a, b) => a.paidAt - b.paidAt || a.transactionId.localeCompare(b.transactionId));
  const refundsOf = (orderId: string) =>
    [...refunds.values()].filter((r) => r.orderId === orderId).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const newestFirst = (a: Order, b: Order) => b.createdAt - a.createdAt || b.id.localeCompare(a.id);
  const oldestFirst = (a: Order, b: Order) => a.createdAt - b.createdAt || a.id.localeCompare(b.id);
  const recordPayment = (p: Omit<PaymentRecord, 'refundReserved'>) => {
    if (payments.has(p.transactionId)) return false;
    payments.set(p.transactionId, { ...copy(p), refundReserved: 0 });
    return true;
  };
  const recordNotification = (rec: NotificationRecord, replaces: readonly string[]) => {
    const key = notificationKey(rec.id, rec.outTradeNo);
    const known = notifications.get(key);
    const next = known
      ? {
          ...known,
          deliveries: known.deliveries + 1,
          lastReceivedAt: rec.lastReceivedAt,
          ...(replaces.includes(known.outcome) ? { outcome: rec.outcome, detail: rec.detail } : {}),
        }
      : { ...copy(rec), deliveries: 1 };
    notifications.set(key, next);
    return { record: copy(next), duplicate: next.deliveries > 1 };
  };
  const release = (orderId: string, owner: string) => {
    const o = orders.get(orderId);
    if (o?.lease?.owner === owner) o.lease = null;
  };

  return {
    kind: 'memory',
    failWritesTo: (t) => void failing.add(t),
    clearFaults: () => failing.clear(),

    upsertUser: ({ openid, unionid, sessionKey, now }) =>
      run(() => {
        writing('users');
        const known = [...users.values()].find((u) => u.openid === openid);
        const user = known
          ? { ...known, sessionKey, unionid: unionid ?? known.unionid }
          : { id: `u_${crypto.randomUUID()}`, openid, unionid, sessionKey, createdAt: now };
        users.set(user.id, user);
        return copy(user);
      }),
    findUserById: (id) => read(() => copy(users.get(id) ?? null)),
    createSession: (s) =>
      run(() => {
        writing('sessions');
        if (sessions.has(s.tokenHash)) throw new DuplicateKeyError('token');
        sessions.set(s.tokenHash, copy(s));
      }),
    findSession: (h) => read(() => copy(sessions.get(h) ?? null)),
    findSessionUser: (h) =>
      run(() => {
        reading();
        const session = sessions.get(h);
        const user = session && users.get(session.userId);
        return session && user ? { session: copy(session), user: copy(user) } : null;
      }),
    deleteSession: (h) => write(['sessions'], () => void sessions.delete(h)),
    deleteSessionsOfUser: (userId) =>
      run(() => {
        writing('sessions');
        const gone = [...sessions.values()].filter((s) => s.userId === userId);
        for (const s of gone) sessions.delete(s.tokenHash);
        return gone.length;
      }),
    purgeExpiredSessions: (now) =>
      run(() => {
        writing('sessions');
        const gone = [...sessions.values()].filter((s) => s.expiresAt <= now);
        for (const s of gone) sessions.delete(s.tokenHash);
        return gone.length;
      }),

    listProducts: () => read(() => copy([...products.values()])),
    seedProducts: (list) =>
      run(() => {
        writing();
        for (const p of list) if (!products.has(p.sku)) products.set(p.sku, copy(p));
      }),

    insertOrder: (o, a, lease) =>
      run(() => {
        writing('orders', 'attempts');
        if (attempts.has(a.outTradeNo) || [...orders.values()].some((x) => x.order.outTradeNo === o.outTradeNo))
          throw new DuplicateKeyError('out_trade_no');
        if (
          o.idempotencyKey !== null &&
          [...orders.values()].some((x) => x.order.userId === o.userId && x.order.idempotencyKey === o.idempotencyKey)
        )
          throw new DuplicateKeyError('idempotency_key');
        if (orders.has(o.id)) throw new DuplicateKeyError('other');
        orders.set(o.id, { order: copy(o), lease: lease ? copy(lease) : null });
        attempts.set(a.outTradeNo, copy(a));
      }),
    findOrder: (id) => read(() => copy(order(id) ?? null)),
    findOrderRecords: (id) =>
      run(() => {
        reading();
        const o = order(id);
        return o ? copy({ order: o, payments: paymentsOf(id), refunds: refundsOf(id), shipment: shipments.get(id) ?? null }) : null;
      }),
    findRecordsOfOrders: (orders) =>
      run(() => {
        reading();
        return copy(
          orders.map((o) => ({ order: o, payments: paymentsOf(o.id), refunds: refundsOf(o.id), shipment: shipments.get(o.id) ?? null })),
        );
      }),
    findOrderByIdempotencyKey: (userId, key) =>
      read(() => copy([...orders.values()].find((x) => x.order.userId === userId && x.order.idempotencyKey === key)?.order ?? null)),
    listOrdersByUser: (userId, limit) =>
      read(() =>
        copy(
          [...orders.values()]
            .map((x) => x.order)
            .filter((o) => o.userId === userId)
            .sort(newestFirst)
            .slice(0, limit),
        ),
      ),
    listOrders: (f) =>
      run(() => {
        reading();
        const list = [...orders.values()].map((x) => x.order).filter((o) => matchesOrderFilter(o, paymentsOf(o.id), f));
        return copy(list.sort(newestFirst).slice(0, f.limit));
      }),
    findAttempt: (no) => read(() => copy(attempts.get(no) ?? null)),
    listAttempts: (orderId) =>
      read(() =>
        copy(
          [...attempts.values()]
            .filter((a) => a.orderId === orderId)
            .sort((a, b) => a.createdAt - b.createdAt || a.outTradeNo.localeCompare(b.outTradeNo)),
        ),
      ),
    setPrepay: (no, prepayId, expiresAt, rel) =>
      run(() => {
        writing('attempts', ...(rel ? (['orders'] as const) : []));
        const a = attempts.get(no);
        if (a) attempts.set(no, { ...a, prepayId, prepayExpiresAt: expiresAt });
        if (rel) release(rel.orderId, rel.owner);
      }),
    replaceAttempt: (orderId, previous, a, now) =>
      run(() => {
        writing('orders', 'attempts');
        const o = order(orderId);
        if (o?.status !== 'PENDING' || o.outTradeNo !== previous) return false;
        if (attempts.has(a.outTradeNo)) throw new DuplicateKeyError('out_trade_no');
        orders.get(orderId)!.order = { ...o, outTradeNo: a.outTradeNo, updatedAt: now };
        attempts.set(a.outTradeNo, copy(a));
        return true;
      }),
    markPaid: (orderId, u, now, also) =>
      run(() => {
        writing('orders', ...(also ? (['payments'] as const) : []), ...(also?.notification ? (['notifications'] as const) : []));
        const o = order(orderId);
        if (o?.status !== 'PENDING') return false;
        orders.get(orderId)!.order = { ...o, status: 'PAID', transactionId: u.transactionId, paidAt: u.paidAt, updatedAt: now };
        if (also) recordPayment(also.payment);
        if (also?.notification) recordNotification(also.notification.record, also.notification.replaces);
        return true;
      }),
    markClosed: (orderId, now) =>
      run(() => {
        writing('orders');
        const o = order(orderId);
        if (o?.status !== 'PENDING') return false;
        orders.get(orderId)!.order = { ...o, status: 'CLOSED', closedAt: now, updatedAt: now };
        return true;
      }),
    flagForReview: (orderId, reason, now) =>
      run(() => {
        writing('orders');
        const o = order(orderId);
        if (!o || o.reviewReason !== null) return false;
        orders.get(orderId)!.order = { ...o, reviewReason: reason, updatedAt: now };
        return true;
      }),
    listReconcileCandidates: (createdBefore, now, limit) =>
      run(() => {
        reading();
        const list = [...orders.values()].filter((x) => isReconcileCandidate(x.order, x.lease, { createdBefore, now })).map((x) => x.order);
        return copy(list.sort(oldestFirst).slice(0, limit));
      }),

    claimOrder: (orderId, owner, until, now) =>
      run(() => {
        writing('orders');
        const x = orders.get(orderId);
        if (x?.order.status !== 'PENDING' || (x.lease !== null && x.lease.until >= now)) return false;
        x.lease = { owner, until };
        return true;
      }),
    releaseOrder: (orderId, owner) => write(['orders'], () => release(orderId, owner)),

    recordPayment: (p) => write(['payments'], () => recordPayment(p)),
    findPayment: (id) => read(() => copy(payments.get(id) ?? null)),
    listPayments: (orderId) => read(() => copy(paymentsOf(orderId))),
    insertRefund: (r) =>
      run(() => {
        writing('payments', 'refunds');
        const p = payments.get(r.transactionId);
        if ([...refunds.values()].some((x) => x.outRefundNo === r.outRefundNo)) throw new DuplicateKeyError('out_refund_no');
        if (
          r.idempotencyKey !== null &&
          [...refunds.values()].some((x) => x.orderId === r.orderId && x.idempotencyKey === r.idempotencyKey)
        )
          throw new DuplicateKeyError('idempotency_key');
        if (!p || p.refundReserved + r.amount > p.amount) return false;
        p.refundReserved += r.amount;
        refunds.set(r.id, copy(r));
        return true;
      }),
    moveRefund: (no, from, to, fields, rel, now) =>
      run(() => {
        writing('refunds', ...(rel ? (['payments'] as const) : []));
        const r = [...refunds.values()].find((x) => x.outRefundNo === no);
        if (!r || !from.includes(r.status)) return false;
        const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null));
        refunds.set(r.id, { ...r, ...set, status: to, updatedAt: now });
        if (rel) payments.get(r.transactionId)!.refundReserved -= r.amount;
        return true;
      }),
    setRefundProviderId: (no, providerRefundId, now) =>
      run(() => {
        writing('refunds');
        const r = [...refunds.values()].find((x) => x.outRefundNo === no);
        if (r && r.providerRefundId === null) refunds.set(r.id, { ...r, providerRefundId, updatedAt: now });
      }),
    findRefund: (no) => read(() => copy([...refunds.values()].find((x) => x.outRefundNo === no) ?? null)),
    findRefundByIdempotencyKey: (orderId, key) =>
      read(() => copy([...refunds.values()].find((x) => x.orderId === orderId && x.idempotencyKey === key) ?? null)),
    listRefunds: (orderId) => read(() => copy(refundsOf(orderId))),
    listRefundsToReconcile: (createdBefore, limit) =>
      read(() =>
        copy(
          [...refunds.values()]
            .filter((r) => isRefundToReconcile(r, createdBefore))
            .sort(byTime((r) => r.createdAt))
            .slice(0, limit),
        ),
      ),

    recordNotification: (rec, replaces) => write(['notifications'], () => recordNotification(rec, replaces)),
    findNotification: (id, no) => read(() => copy(notifications.get(notificationKey(id, no)) ?? null)),
    listNotificationsFor: (nos) =>
      read(() =>
        copy(
          [...notifications.values()]
            .filter((n) => n.outTradeNo !== null && nos.includes(n.outTradeNo))
            .sort(byTime((n) => n.firstReceivedAt)),
        ),
      ),
    recordRejectedNotification: (x) => write([], () => void rejected.push(copy(x))),
    countRejectedNotifications: () => read(() => rejected.length),
    trimRejectedNotifications: (keep) => write([], () => void rejected.splice(0, Math.max(0, rejected.length - keep))),

    findShipment: (orderId) => read(() => copy(shipments.get(orderId) ?? null)),
    saveShipment: (next, expected) =>
      run(() => {
        writing('shipments');
        const known = shipments.get(next.orderId);
        if (expected === null ? known !== undefined : known?.version !== expected) return false;
        shipments.set(next.orderId, copy(next));
        return true;
      }),
    listShipmentsToSync: (now, limit) =>
      read(() =>
        copy(
          [...shipments.values()]
            .filter((s) => needsShipmentSync(s, now))
            .sort(byTime((s) => s.updatedAt))
            .slice(0, limit),
        ),
      ),

    claimOnce: (key, expiresAt, now) =>
      write([], () => {
        const until = usedKeys.get(key);
        if (until !== undefined && until > now) return false;
        usedKeys.set(key, expiresAt);
        return true;
      }),
    releaseClaim: (key) => write([], () => void usedKeys.delete(key)),
    purgeClaims: (now) =>
      write([], () => {
        const gone = [...usedKeys].filter(([, until]) => until <= now);
        for (const [key] of gone) usedKeys.delete(key);
        return gone.length;
      }),
    createOpsSession: (x) => write([], () => void opsSessions.set(x.idHash, copy(x))),
    findOpsSession: (idHash) => read(() => copy(opsSessions.get(idHash) ?? null)),
    touchOpsSession: (idHash, lastSeenAt) =>
      write([], () => {
        const x = opsSessions.get(idHash);
        if (x) x.lastSeenAt = Math.max(x.lastSeenAt, lastSeenAt);
      }),
    deleteOpsSession: (idHash) => write([], () => void opsSessions.delete(idHash)),
    insertCredit: (c) =>
      write([], () => {
        if (credits.has(c.id)) return false;
        credits.set(c.id, copy(c));
        return true;
      }),
    saveCredit: (c, expected) =>
      write([], () => {
        if (credits.get(c.id)?.version !== expected) return false;
        credits.set(c.id, copy(c));
        return true;
      }),
    listCredits: (orderId) =>
      read(() =>
        [...credits.values()]
          .filter((c) => c.orderId === orderId)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
          .map(copy),
      ),
    listCreditsToSend: (now, limit) =>
      read(() =>
        [...credits.values()]
          .filter((c) => isSendable(c, now))
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
          .slice(0, limit)
          .map(copy),
      ),
    findComplaint: (id) => read(() => copy(complaints.get(id) ?? null)),
    saveComplaint: (next, expected) =>
      write([], () => {
        const current = complaints.get(next.id);
        if (expected === null ? current !== undefined : current?.version !== expected) return false;
        complaints.set(next.id, copy(next));
        return true;
      }),
    listComplaints: (f) =>
      read(() =>
        [...complaints.values()]
          .filter((c) => (!f.state || c.state === f.state) && (!f.orderId || c.orderId === f.orderId))
          .sort(byUrgency)
          .slice(0, f.limit)
          .map(copy),
      ),
    stageBillKeys: (run, keys) =>
      write([], () => {
        const set = billKeys.get(run) ?? new Set<string>();
        for (const k of keys) set.add(k);
        billKeys.set(run, set);
      }),
    dropBillKeys: (run) => write([], () => void billKeys.delete(run)),
    saveBookDay: (day) => write([], () => void books.set(day.date, copy(day))),
    findBookDay: (date) => read(() => copy(books.get(date) ?? null)),
    listBookDays: (from, to) =>
      read(() =>
        [...books.values()]
          .filter((d) => d.date >= from && d.date <= to)
          .sort((a, b) => (a.date < b.date ? 1 : -1))
          .map(copy),
      ),
    listPaymentsPaidBetween: (from, to, after, limit, notIn) =>
      read(() =>
        [...payments.values()]
          .filter((p) => p.paidAt >= from && p.paidAt < to && (after === null || afterCursor(p.paidAt, p.transactionId, after)))
          .filter((p) => notIn === undefined || !billKeys.get(notIn)?.has(p.transactionId))
          .sort((a, b) => a.paidAt - b.paidAt || (a.transactionId < b.transactionId ? -1 : 1))
          .slice(0, limit)
          .map(copy),
      ),
    listRefundsCreatedBetween: (from, to, after, limit, notIn) =>
      read(() =>
        [...refunds.values()]
          .filter((r) => r.createdAt >= from && r.createdAt < to && (after === null || afterCursor(r.createdAt, r.outRefundNo, after)))
          .filter((r) => notIn === undefined || !billKeys.get(notIn)?.has(r.outRefundNo))
          .sort((a, b) => a.createdAt - b.createdAt || (a.outRefundNo < b.outRefundNo ? -1 : 1))
          .slice(0, limit)
          .map(copy),
      ),
    purgeOpsSessions: (createdBefore, seenBefore) =>
      write([], () => {
        const gone = [...opsSessions.values()].filter((x) => x.createdAt <= createdBefore || x.lastSeenAt <= seenBefore);
        for (const x of gone) opsSessions.delete(x.idHash);
        return gone.length;
      }),
    close: async () => {
      closed = true;
    },
  };
}
