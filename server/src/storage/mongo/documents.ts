// Documents back into the domain's records.
import type { Product } from '../../domain/catalog';
import type { NotificationRecord, RejectedNotification } from '../../domain/notification';
import type { Order, PaymentAttempt } from '../../domain/order';
import type { PaymentRecord, Refund } from '../../domain/refund';
import type { Shipment } from '../../domain/shipment';
import type { Session, User } from '../../domain/user';

type Doc = Record<string, unknown> & { _id: string };
const orNull = <T>(v: unknown) => (v as T | null | undefined) ?? null;

export const toUser = (d: Doc): User => ({
  id: d._id,
  openid: d.openid as string,
  unionid: orNull(d.unionid),
  sessionKey: d.sessionKey as string,
  createdAt: d.createdAt as number,
});

export const toSession = (d: Doc): Session => ({ tokenHash: d._id, userId: d.userId as string, expiresAt: d.expiresAt as number });

export const toProduct = (d: Doc): Product => ({
  sku: d._id,
  name: d.name as string,
  description: d.description as string,
  price: d.price as number,
  currency: 'CNY',
  maxQuantity: d.maxQuantity as number,
});

export const toOrder = (d: Doc): Order => ({
  id: d._id,
  userId: d.userId as string,
  lines: (d.lines as Order['lines']).map((l) => ({
    sku: l.sku,
    name: l.name,
    unitPrice: l.unitPrice,
    quantity: l.quantity,
    lineTotal: l.lineTotal,
  })),
  total: d.total as number,
  currency: 'CNY',
  description: d.description as string,
  status: d.status as Order['status'],
  outTradeNo: d.outTradeNo as string,
  payDeadline: d.payDeadline as number,
  idempotencyKey: orNull(d.idempotencyKey),
  requestHash: orNull(d.requestHash),
  transactionId: orNull(d.transactionId),
  paidAt: orNull(d.paidAt),
  closedAt: orNull(d.closedAt),
  reviewReason: orNull(d.reviewReason),
  createdAt: d.createdAt as number,
  updatedAt: d.updatedAt as number,
});

export const toAttempt = (d: Doc): PaymentAttempt => ({
  outTradeNo: d._id,
  orderId: d.orderId as string,
  requestBody: d.requestBody as string,
  prepayId: orNull(d.prepayId),
  prepayExpiresAt: orNull(d.prepayExpiresAt),
  createdAt: d.createdAt as number,
});

export const toNotification = (d: Doc): NotificationRecord => ({
  id: (d.notificationId as string | undefined) ?? d._id,
  eventType: d.eventType as string,
  outTradeNo: orNull(d.outTradeNo),
  transactionId: orNull(d.transactionId),
  outcome: d.outcome as NotificationRecord['outcome'],
  detail: orNull(d.detail),
  requestId: orNull(d.requestId),
  firstReceivedAt: d.firstReceivedAt as number,
  lastReceivedAt: d.lastReceivedAt as number,
  deliveries: d.deliveries as number,
});

export const rejectedDoc = (x: RejectedNotification) => ({ ...x });

export const toPayment = (d: Doc): PaymentRecord => ({
  transactionId: d._id,
  orderId: d.orderId as string,
  outTradeNo: d.outTradeNo as string,
  amount: d.amount as number,
  kind: d.kind as PaymentRecord['kind'],
  paidAt: d.paidAt as number,
  refundReserved: (d.refundReserved as number | undefined) ?? 0,
});

export const toRefund = (d: Doc): Refund => ({
  id: d._id,
  orderId: d.orderId as string,
  transactionId: d.transactionId as string,
  outTradeNo: d.outTradeNo as string,
  outRefundNo: d.outRefundNo as string,
  amount: d.amount as number,
  reason: orNull(d.reason),
  status: d.status as Refund['status'],
  providerRefundId: orNull(d.providerRefundId),
  idempotencyKey: orNull(d.idempotencyKey),
  failure: orNull(d.failure),
  createdAt: d.createdAt as number,
  updatedAt: d.updatedAt as number,
  settledAt: orNull(d.settledAt),
});

export const toShipment = (d: Record<string, unknown>): Shipment => JSON.parse(d.doc as string) as Shipment;
