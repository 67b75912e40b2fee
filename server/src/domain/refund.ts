// Money that goes back: every payment an order received, and the refunds against each.
//
//   Refund:  PROCESSING ──▶ SUCCESS | CLOSED | ABNORMAL      (forward only, by conditional writes)
//
// A refund's amount counts against its payment from the moment it is requested until it is CLOSED
// (WeChat gave up: the amount may be refunded again). The sum of counted refunds never exceeds the
// payment: the store enforces it with a conditional write on the payment's reserved total, so
// concurrent requests cannot overshoot.
import type { Fen } from './money';

export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';

export const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  PROCESSING: ['SUCCESS', 'CLOSED', 'ABNORMAL'],
  SUCCESS: [],
  CLOSED: [],
  ABNORMAL: [],
};

/** Statuses that may move to `to`. */
export const refundStatusesBefore = (to: RefundStatus): RefundStatus[] =>
  (Object.keys(REFUND_TRANSITIONS) as RefundStatus[]).filter((from) => REFUND_TRANSITIONS[from].includes(to));

/** Moving to CLOSED gives the amount back to the payment: it may be refunded again. */
export const releasesReservation = (to: RefundStatus): boolean => to === 'CLOSED';

export type PaymentKind =
  /** The payment that paid the order. */
  | 'ORDER'
  /** Another, different successful transaction for an order already paid: it must go back. */
  | 'DUPLICATE'
  /** A success for an order that had already closed: it must go back. */
  | 'AFTER_CLOSE';

/** One successful transaction the shop received. */
export interface PaymentRecord {
  transactionId: string;
  orderId: string;
  outTradeNo: string;
  amount: Fen;
  kind: PaymentKind;
  paidAt: number;
  /** Sum of this payment's refunds that are not CLOSED (kept by the store's conditional writes). */
  refundReserved: Fen;
}

export interface Refund {
  id: string;
  orderId: string;
  /** The payment refunded. */
  transactionId: string;
  outTradeNo: string;
  /** Our unique reference at the provider; the same value always means the same refund. */
  outRefundNo: string;
  amount: Fen;
  reason: string | null;
  status: RefundStatus;
  /** The provider's id for the refund, once known. */
  providerRefundId: string | null;
  idempotencyKey: string | null;
  /** Why the provider refused it (a CLOSED refund that never started), for the operator. */
  failure: string | null;
  createdAt: number;
  updatedAt: number;
  settledAt: number | null;
}

/** What the shopper sees of a refund. */
export interface RefundView {
  id: string;
  amount: Fen;
  status: RefundStatus;
  createdAt: string;
  settledAt: string | null;
}

/** A payment that must go back and has not been (fully) refunded. */
export const isRefundDue = (p: PaymentRecord): boolean => p.kind !== 'ORDER' && p.refundReserved < p.amount;

/** Refunds reconciliation asks the provider about: still PROCESSING, requested at or before `createdBefore`. */
export const isRefundToReconcile = (r: Refund, createdBefore: number): boolean => r.status === 'PROCESSING' && r.createdAt <= createdBefore;

export const toRefundView = (r: Refund): RefundView => ({
  id: r.id,
  amount: r.amount,
  status: r.status,
  createdAt: new Date(r.createdAt).toISOString(),
  settledAt: r.settledAt === null ? null : new Date(r.settledAt).toISOString(),
});
