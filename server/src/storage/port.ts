// The one store interface. Adapters (sqlite/, mongo/) are factories returning this shape;
// driver errors become DuplicateKeyError or StoreUnavailableError inside the adapter. The domain
// decides every rule (which transition, which outcome replaces which); adapters apply it as a
// conditional write and decide nothing.
import type { Product } from '../domain/catalog';
import type { NotificationOutcome, NotificationRecord, RejectedNotification } from '../domain/notification';
import type { Order, PaymentAttempt } from '../domain/order';
import type { Session, User } from '../domain/user';

export interface PaidUpdate {
  transactionId: string;
  paidAt: number;
  outTradeNo: string;
}

export interface Store {
  readonly kind: 'sqlite' | 'mongodb';

  upsertUser(input: { openid: string; unionid: string | null; sessionKey: string; now: number }): Promise<User>;
  findUserById(id: string): Promise<User | null>;

  createSession(session: Session): Promise<void>;
  findSession(tokenHash: string): Promise<Session | null>;
  deleteSession(tokenHash: string): Promise<void>;

  listProducts(): Promise<Product[]>;
  /** Inserts the seed catalog where missing; existing products keep their stored values. */
  seedProducts(products: readonly Product[]): Promise<void>;

  /** Inserts an order and its first attempt together. DuplicateKeyError('idempotency_key') on a replayed key. */
  insertOrder(order: Order, attempt: PaymentAttempt): Promise<void>;
  findOrder(id: string): Promise<Order | null>;
  findOrderByIdempotencyKey(userId: string, key: string): Promise<Order | null>;
  listOrdersByUser(userId: string, limit: number): Promise<Order[]>;

  findAttempt(outTradeNo: string): Promise<PaymentAttempt | null>;
  /** Records a prepay_id on an attempt (conditional on the attempt existing). */
  setPrepay(outTradeNo: string, prepayId: string, prepayExpiresAt: number): Promise<void>;
  /** Adds a new attempt and makes it the order's current one, only while the order is PENDING
   *  and its current attempt is still `previousOutTradeNo`. False when that did not hold. */
  replaceAttempt(orderId: string, previousOutTradeNo: string, attempt: PaymentAttempt, now: number): Promise<boolean>;

  /** PENDING → PAID. True only for the call that made the transition. */
  markPaid(orderId: string, update: PaidUpdate, now: number): Promise<boolean>;
  /** PENDING → CLOSED. True only for the call that made the transition. */
  markClosed(orderId: string, now: number): Promise<boolean>;
  /** Flags a CLOSED order that WeChat reports paid. */
  flagPaidAfterClose(orderId: string, update: PaidUpdate, now: number): Promise<void>;

  /** PENDING orders created at or before `createdBefore` and not leased by anyone now, oldest first. */
  listReconcileCandidates(createdBefore: number, now: number, limit: number): Promise<Order[]>;
  /** Takes a lease on a PENDING order so that only one instance works on it; false if someone holds it. */
  claimOrder(orderId: string, owner: string, leaseUntil: number, now: number): Promise<boolean>;
  releaseOrder(orderId: string, owner: string): Promise<void>;

  /** Inserts the record, or, when the id is known, counts one more delivery (lastReceivedAt from `record`) and,
   *  only when the stored outcome is one of `replaces`, sets outcome and detail from `record`. */
  recordNotification(record: NotificationRecord, replaces: readonly NotificationOutcome[]): Promise<{ record: NotificationRecord; duplicate: boolean }>;
  findNotification(id: string): Promise<NotificationRecord | null>;
  recordRejectedNotification(rejected: RejectedNotification): Promise<void>;
  countRejectedNotifications(): Promise<number>;

  close(): Promise<void>;
}
