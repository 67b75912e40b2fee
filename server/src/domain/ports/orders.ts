// Orders and their payment attempts. Every transition is a conditional write: the call that made it
// is told so (true), every other call is told it did not (false), so repeats and races are harmless.
import type { NotificationOutcome, NotificationRecord } from '../notification';
import type { Order, OrderFilter, OrderLease, OrderStatus, PaymentAttempt } from '../order';
import type { PaymentRecord, Refund } from '../refund';
import type { Shipment } from '../shipment';

export type { OrderFilter, OrderStatus };

export interface PaidUpdate {
  transactionId: string;
  paidAt: number;
  outTradeNo: string;
}

/** What is recorded together with a PENDING → PAID transition. */
export interface PaidRecords {
  payment: Omit<PaymentRecord, 'refundReserved'>;
  notification?: { record: NotificationRecord; replaces: readonly NotificationOutcome[] };
}

/** An order and what is recorded about it. */
export interface OrderRecords {
  order: Order;
  payments: PaymentRecord[];
  refunds: Refund[];
  shipment: Shipment | null;
}

/** How an adapter assembles `findRecordsOfOrders`' answer from a page's rows, read in one query per kind. */
export function recordsOfPage(
  orders: readonly Order[],
  payments: readonly PaymentRecord[],
  refunds: readonly Refund[],
  shipments: readonly Shipment[],
): OrderRecords[] {
  const byOrder = new Map(orders.map((o): [string, OrderRecords] => [o.id, { order: o, payments: [], refunds: [], shipment: null }]));
  for (const p of payments) byOrder.get(p.orderId)?.payments.push(p);
  for (const r of refunds) byOrder.get(r.orderId)?.refunds.push(r);
  for (const s of shipments) {
    const records = byOrder.get(s.orderId);
    if (records) records.shipment = s;
  }
  return orders.map((o) => byOrder.get(o.id)!);
}

export interface OrderStore {
  /** Atomic: the order, its first attempt and (when given) the lease, all or none. DuplicateKeyError('idempotency_key')
   *  for a (user, key) pair already used, ('out_trade_no') for a reference already used. */
  insertOrder(order: Order, attempt: PaymentAttempt, lease?: OrderLease): Promise<void>;
  findOrder(id: string): Promise<Order | null>;
  /** The order with its payments, refunds and shipment, in one consistent read (the order as the API shows it). */
  findOrderRecords(id: string): Promise<OrderRecords | null>;
  /** The records of each of these orders (a page just listed), in their order, with the orders as given: a
   *  constant number of reads whatever the page's size. */
  findRecordsOfOrders(orders: readonly Order[]): Promise<OrderRecords[]>;
  findOrderByIdempotencyKey(userId: string, key: string): Promise<Order | null>;
  /** The user's orders, newest first. */
  listOrdersByUser(userId: string, limit: number): Promise<Order[]>;
  /** For the operator: the orders `matchesOrderFilter` (domain/order.ts) accepts, newest first. */
  listOrders(filter: OrderFilter): Promise<Order[]>;

  findAttempt(outTradeNo: string): Promise<PaymentAttempt | null>;
  /** The order's attempts, oldest first. */
  listAttempts(orderId: string): Promise<PaymentAttempt[]>;
  /** Atomic: records a prepay_id on an attempt and, with `release`, gives back that order's lease held by that owner. */
  setPrepay(outTradeNo: string, prepayId: string, prepayExpiresAt: number, release?: { orderId: string; owner: string }): Promise<void>;
  /** Atomic: adds a new attempt and makes it the order's current one, only while the order is PENDING and its
   *  current attempt is still `previousOutTradeNo`. False (and nothing written) when that did not hold. */
  replaceAttempt(orderId: string, previousOutTradeNo: string, attempt: PaymentAttempt, now: number): Promise<boolean>;

  /** Atomic: PENDING → PAID, with what `also` holds (the payment's record, the notification that reported it),
   *  all written only when the transition happened, or none. True only for the call that made the transition. */
  markPaid(orderId: string, update: PaidUpdate, now: number, also?: PaidRecords): Promise<boolean>;
  /** PENDING → CLOSED. True only for the call that made the transition. */
  markClosed(orderId: string, now: number): Promise<boolean>;
  /** Sets the order's review reason, only if none is set yet. True for the call that set it. */
  flagForReview(orderId: string, reason: string, now: number): Promise<boolean>;
  /** The orders `isReconcileCandidate` (domain/order.ts) accepts at `now`, oldest first. */
  listReconcileCandidates(createdBefore: number, now: number, limit: number): Promise<Order[]>;
}
