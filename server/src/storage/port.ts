// The one store interface. Adapters (sqlite/, mongo/) are factories returning this shape;
// driver errors become DuplicateKeyError or StoreUnavailableError inside the adapter. The domain
// decides every rule (which transition, which outcome replaces which); adapters apply it as a
// conditional write and decide nothing.
import type { Product } from '../domain/catalog';
import type { NotificationOutcome, NotificationRecord, RejectedNotification } from '../domain/notification';
import type { Order, OrderStatus, PaymentAttempt } from '../domain/order';
import type { PaymentRecord, Refund, RefundStatus } from '../domain/refund';
import type { Shipment } from '../domain/shipment';
import type { Session, User } from '../domain/user';

export interface PaidUpdate {
  transactionId: string;
  paidAt: number;
  outTradeNo: string;
}

/** An order and what is recorded about it. */
export interface OrderRecords {
  order: Order;
  payments: PaymentRecord[];
  refunds: Refund[];
  shipment: Shipment | null;
}

/** A lease on an order: only its owner works on the order until `until`. */
export interface OrderLease {
  owner: string;
  until: number;
}

/** What is recorded together with a PENDING → PAID transition. */
export interface PaidRecords {
  payment: Omit<PaymentRecord, 'refundReserved'>;
  notification?: { record: NotificationRecord; replaces: readonly NotificationOutcome[] };
}

export interface Store {
  readonly kind: 'sqlite' | 'mongodb';
  /** How many transactions were committed and how many writes they held (group commit at work); where the adapter counts. */
  commitStats?(): { commits: number; writes: number; syncs: number; syncMs: number };

  upsertUser(input: { openid: string; unionid: string | null; sessionKey: string; now: number }): Promise<User>;
  findUserById(id: string): Promise<User | null>;

  createSession(session: Session): Promise<void>;
  findSession(tokenHash: string): Promise<Session | null>;
  /** The session and its user, in one read (authentication on every request). */
  findSessionUser(tokenHash: string): Promise<{ session: Session; user: User } | null>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Deletes every session of the user; returns how many. */
  deleteSessionsOfUser(userId: string): Promise<number>;
  /** Deletes sessions whose expiry is at or before `now`; returns how many. */
  purgeExpiredSessions(now: number): Promise<number>;

  listProducts(): Promise<Product[]>;
  /** Inserts the seed catalog where missing; existing products keep their stored values. */
  seedProducts(products: readonly Product[]): Promise<void>;

  /** Inserts an order and its first attempt together, leased to `lease.owner` when given (as claimOrder
   *  would, in the same write). DuplicateKeyError('idempotency_key') on a replayed key. */
  insertOrder(order: Order, attempt: PaymentAttempt, lease?: OrderLease): Promise<void>;
  findOrder(id: string): Promise<Order | null>;
  /** The order with its payments, refunds and shipment, in one read (the order as the API shows it). */
  findOrderRecords(id: string): Promise<OrderRecords | null>;
  findOrderByIdempotencyKey(userId: string, key: string): Promise<Order | null>;
  listOrdersByUser(userId: string, limit: number): Promise<Order[]>;

  findAttempt(outTradeNo: string): Promise<PaymentAttempt | null>;
  /** Records a prepay_id on an attempt (conditional on the attempt existing); with `release`, releases
   *  that order's lease held by that owner in the same write (as releaseOrder). */
  setPrepay(outTradeNo: string, prepayId: string, prepayExpiresAt: number, release?: { orderId: string; owner: string }): Promise<void>;
  /** Adds a new attempt and makes it the order's current one, only while the order is PENDING
   *  and its current attempt is still `previousOutTradeNo`. False when that did not hold. */
  replaceAttempt(orderId: string, previousOutTradeNo: string, attempt: PaymentAttempt, now: number): Promise<boolean>;

  /** PENDING → PAID. True only for the call that made the transition. What `also` holds is written in
   *  the same write, and only when the transition happened: the payment's record (as recordPayment), and
   *  the notification that reported it (as recordNotification). */
  markPaid(orderId: string, update: PaidUpdate, now: number, also?: PaidRecords): Promise<boolean>;
  /** PENDING → CLOSED. True only for the call that made the transition. */
  markClosed(orderId: string, now: number): Promise<boolean>;
  /** Sets the order's review reason, only if none is set yet. True for the call that set it. */
  flagForReview(orderId: string, reason: string, now: number): Promise<boolean>;

  /** PENDING orders created at or before `createdBefore`, not leased by anyone now and not flagged for review, oldest first. */
  listReconcileCandidates(createdBefore: number, now: number, limit: number): Promise<Order[]>;
  /** Takes a lease on a PENDING order so that only one instance works on it; false if someone holds it. */
  claimOrder(orderId: string, owner: string, leaseUntil: number, now: number): Promise<boolean>;
  releaseOrder(orderId: string, owner: string): Promise<void>;

  /** Records a successful transaction once (keyed by its transaction id). True when it was new. */
  recordPayment(payment: Omit<PaymentRecord, 'refundReserved'>): Promise<boolean>;
  findPayment(transactionId: string): Promise<PaymentRecord | null>;
  listPayments(orderId: string): Promise<PaymentRecord[]>;

  /** Inserts the refund and adds its amount to its payment's reserved total, together and only if that
   *  total stays within the payment's amount; false when it would not. DuplicateKeyError('idempotency_key')
   *  for an (order, idempotency key) pair already used, ('out_refund_no') for a reference already used. */
  insertRefund(refund: Refund): Promise<boolean>;
  /** Moves a refund whose status is one of `from` to `to` with the given fields; when `release`, takes its
   *  amount off its payment's reserved total in the same write. True only for the call that moved it. */
  moveRefund(
    outRefundNo: string,
    from: readonly RefundStatus[],
    to: RefundStatus,
    fields: { providerRefundId?: string | null; settledAt?: number | null; failure?: string | null },
    release: boolean,
    now: number,
  ): Promise<boolean>;
  /** Records the provider's id for a refund (only while it has none). */
  setRefundProviderId(outRefundNo: string, providerRefundId: string, now: number): Promise<void>;
  findRefund(outRefundNo: string): Promise<Refund | null>;
  findRefundByIdempotencyKey(orderId: string, key: string): Promise<Refund | null>;
  listRefunds(orderId: string): Promise<Refund[]>;
  /** Refunds in `status` created at or before `createdBefore`, oldest first. */
  listRefundsInStatus(status: RefundStatus, createdBefore: number, limit: number): Promise<Refund[]>;

  /** For the operator: newest first; `refundDue` keeps orders with a payment of another kind than
   *  ORDER whose reserved refunds are less than its amount; `createdBefore` pages. */
  listOrders(filter: { status?: OrderStatus; refundDue?: boolean; createdBefore?: number; limit: number }): Promise<Order[]>;
  listAttempts(orderId: string): Promise<PaymentAttempt[]>;
  listNotificationsFor(outTradeNos: readonly string[]): Promise<NotificationRecord[]>;

  /** Inserts the record, or, when the (id, outTradeNo) pair is known, counts one more delivery (lastReceivedAt from `record`) and,
   *  only when the stored outcome is one of `replaces`, sets outcome and detail from `record`. */
  recordNotification(
    record: NotificationRecord,
    replaces: readonly NotificationOutcome[],
  ): Promise<{ record: NotificationRecord; duplicate: boolean }>;
  /** A notification id names one delivery chain for one order: the same id for another order is another notification. */
  findNotification(id: string, outTradeNo: string | null): Promise<NotificationRecord | null>;
  recordRejectedNotification(rejected: RejectedNotification): Promise<void>;
  countRejectedNotifications(): Promise<number>;
  /** Keeps the newest `keep` rejected deliveries, deleting older ones. */
  trimRejectedNotifications(keep: number): Promise<void>;

  /** The order's shipment, or null while it is to ship. */
  findShipment(orderId: string): Promise<Shipment | null>;
  /** Saves `next` only if the stored shipment's version is `expectedVersion` (null: only if there is none).
   *  True for the call that wrote; the domain decides what `next` is. */
  saveShipment(next: Shipment, expectedVersion: number | null): Promise<boolean>;
  /** Shipments reconciliation looks after: uploads still PENDING, and accepted ones not yet COMPLETED. Oldest first. */
  listShipmentsToSync(limit: number): Promise<Shipment[]>;

  close(): Promise<void>;
}
