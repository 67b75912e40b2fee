// Payments received and refunds against them. The sum of a payment's refunds that are not CLOSED never
// exceeds it: the reservation is a conditional write on the payment, made together with the refund.
import type { PaymentRecord, Refund, RefundStatus } from '../refund';

export interface RefundFields {
  providerRefundId?: string | null;
  settledAt?: number | null;
  failure?: string | null;
}

export interface PaymentStore {
  /** Records a successful transaction once (keyed by its transaction id). True when it was new. */
  recordPayment(payment: Omit<PaymentRecord, 'refundReserved'>): Promise<boolean>;
  findPayment(transactionId: string): Promise<PaymentRecord | null>;
  /** The order's payments, oldest first. */
  listPayments(orderId: string): Promise<PaymentRecord[]>;

  /** Atomic: inserts the refund and adds its amount to its payment's reserved total, only if that total stays
   *  within the payment's amount; false (nothing written) when it would not. DuplicateKeyError('idempotency_key')
   *  for an (order, idempotency key) pair already used, ('out_refund_no') for a reference already used. */
  insertRefund(refund: Refund): Promise<boolean>;
  /** Atomic: moves a refund whose status is one of `from` to `to` with the given fields and, when `release`, takes
   *  its amount off its payment's reserved total. True only for the call that moved it. */
  moveRefund(
    outRefundNo: string,
    from: readonly RefundStatus[],
    to: RefundStatus,
    fields: RefundFields,
    release: boolean,
    now: number,
  ): Promise<boolean>;
  /** Records the provider's id for a refund (only while it has none). */
  setRefundProviderId(outRefundNo: string, providerRefundId: string, now: number): Promise<void>;
  findRefund(outRefundNo: string): Promise<Refund | null>;
  findRefundByIdempotencyKey(orderId: string, key: string): Promise<Refund | null>;
  /** The order's refunds, oldest first. */
  listRefunds(orderId: string): Promise<Refund[]>;
  /** The refunds `isRefundToReconcile` (domain/refund.ts) accepts, oldest first. */
  listRefundsToReconcile(createdBefore: number, limit: number): Promise<Refund[]>;
}
