import type { Fen } from './money';
import { toShipmentView, type Shipment, type ShipmentView } from './shipment';
import { isRefundDue, toRefundView, type PaymentRecord, type Refund, type RefundView } from './refund';

/**
 * The order state machine, written down once. Every transition is done by a conditional
 * update in the store (`WHERE status = from`), so a repeat or a race changes nothing.
 *
 *   PENDING ──(payment succeeded, amount matches)──▶ PAID
 *   PENDING ──(closed at WeChat Pay, then locally)──▶ CLOSED
 *
 * PAID and CLOSED are final. A success reported for a CLOSED order is recorded as a payment that
 * must go back (refund.ts); it never reopens the order.
 */
export type OrderStatus = 'PENDING' | 'PAID' | 'CLOSED';

export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ['PAID', 'CLOSED'],
  PAID: [],
  CLOSED: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export interface OrderLine {
  sku: string;
  name: string;
  unitPrice: Fen;
  quantity: number;
  lineTotal: Fen;
}

/** One call to WeChat Pay's JSAPI order: an out_trade_no and the exact body that created it. */
export interface PaymentAttempt {
  outTradeNo: string;
  orderId: string;
  /** The JSON sent to /v3/pay/transactions/jsapi; re-posting it unchanged is allowed, changing it is not. */
  requestBody: string;
  prepayId: string | null;
  /** Epoch ms after which the prepay_id must not be handed to a client (2 h less a margin). */
  prepayExpiresAt: number | null;
  createdAt: number;
}

export interface Order {
  id: string;
  userId: string;
  lines: OrderLine[];
  total: Fen;
  currency: 'CNY';
  description: string;
  status: OrderStatus;
  /** The current payment attempt's out_trade_no (unique across all attempts). */
  outTradeNo: string;
  /** Epoch ms: WeChat's time_expire; after it the order cannot be paid and is closed. */
  payDeadline: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  transactionId: string | null;
  paidAt: number | null;
  closedAt: number | null;
  /** Set once when the provider reported something the shop cannot apply (wrong amount or payee):
   *  the operator must look; reconciliation leaves the order alone. */
  reviewReason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A lease on an order: only its owner works on the order until `until` (epoch ms). */
export interface OrderLease {
  owner: string;
  until: number;
}

/**
 * Orders reconciliation asks the provider about: PENDING, placed at or before `createdBefore` (younger
 * ones are left to the shopper and the notification), not leased by anyone at `now`, and not flagged
 * for the operator's review. The stores select by exactly this (the contract suite holds them to it).
 */
export function isReconcileCandidate(order: Order, lease: OrderLease | null, at: { createdBefore: number; now: number }): boolean {
  return (
    order.status === 'PENDING' &&
    order.createdAt <= at.createdBefore &&
    (lease === null || lease.until < at.now) &&
    order.reviewReason === null
  );
}

/** The operator's order list: by status, created before a time (paging), and whether money must go back. */
export interface OrderFilter {
  status?: OrderStatus;
  /** Only orders with a payment `isRefundDue` accepts. */
  refundDue?: boolean;
  /** Created strictly before (epoch ms): the next page starts where the last ended. */
  createdBefore?: number;
  limit: number;
}

/** Whether the operator's list shows the order, given its payments. */
export function matchesOrderFilter(order: Order, payments: readonly PaymentRecord[], f: Omit<OrderFilter, 'limit'>): boolean {
  return (
    (f.status === undefined || order.status === f.status) &&
    (f.createdBefore === undefined || order.createdAt < f.createdBefore) &&
    (!f.refundDue || payments.some(isRefundDue))
  );
}

/** What the API shows; no internals such as request hashes. */
export interface OrderView {
  id: string;
  status: OrderStatus;
  lines: OrderLine[];
  total: Fen;
  currency: 'CNY';
  description: string;
  outTradeNo: string;
  transactionId: string | null;
  payDeadline: string;
  paidAt: string | null;
  closedAt: string | null;
  /** A payment that must go back (a second payment, or one after the order closed) is not yet refunded. */
  refundDue: boolean;
  /** Refunded and confirmed, in fen. */
  refundedTotal: Fen;
  refunds: RefundView[];
  /** null while a paid order is to ship (待发货), and for unpaid orders. */
  shipment: ShipmentView | null;
  /** On the single-order read: a complaint about the order is open at WeChat (投诉处理中). */
  complaint?: 'OPEN';
  createdAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The order's payments and refunds, which the view summarizes. */
export interface OrderMoney {
  payments: PaymentRecord[];
  refunds: Refund[];
  shipment?: Shipment | null;
}

export function toOrderView(o: Order, money: OrderMoney): OrderView {
  return {
    id: o.id,
    status: o.status,
    lines: o.lines,
    total: o.total,
    currency: o.currency,
    description: o.description,
    outTradeNo: o.outTradeNo,
    transactionId: o.transactionId,
    payDeadline: new Date(o.payDeadline).toISOString(),
    paidAt: iso(o.paidAt),
    closedAt: iso(o.closedAt),
    refundDue: money.payments.some(isRefundDue),
    refundedTotal: money.refunds.filter((r) => r.status === 'SUCCESS').reduce((sum, r) => sum + r.amount, 0),
    refunds: money.refunds.map(toRefundView),
    shipment: money.shipment ? toShipmentView(money.shipment) : null,
    createdAt: new Date(o.createdAt).toISOString(),
  };
}
