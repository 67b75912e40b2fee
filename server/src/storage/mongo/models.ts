// The collections, their document shapes and indexes. Documents keep the domain's field names; each
// record's natural key is its _id where it has one (a session's token hash, an attempt's out_trade_no,
// a payment's transaction id, a product's sku, a shipment's order id).
import { type Connection, Schema } from 'mongoose';
import type { DuplicateKeyIndex } from '../../domain/errors';

const lineSchema = new Schema({ sku: String, name: String, unitPrice: Number, quantity: Number, lineTotal: Number }, { _id: false });
const options = { versionKey: false } as const;

export function defineModels(conn: Connection) {
  const users = conn.model(
    'User',
    new Schema(
      { _id: String, openid: { type: String, required: true, unique: true }, unionid: String, sessionKey: String, createdAt: Number },
      options,
    ),
  );
  const sessions = conn.model('Session', new Schema({ _id: String, userId: { type: String, index: true }, expiresAt: Number }, options));
  const products = conn.model(
    'Product',
    new Schema(
      { _id: String, name: String, description: String, price: Number, currency: String, maxQuantity: Number, position: Number },
      options,
    ),
  );
  const orderSchema = new Schema(
    {
      _id: String,
      userId: { type: String, required: true },
      lines: [lineSchema],
      total: Number,
      currency: String,
      description: String,
      status: { type: String, enum: ['PENDING', 'PAID', 'CLOSED'] },
      outTradeNo: { type: String, required: true, unique: true },
      payDeadline: Number,
      idempotencyKey: { type: String, default: null },
      requestHash: { type: String, default: null },
      transactionId: { type: String, default: null },
      paidAt: { type: Number, default: null },
      closedAt: { type: Number, default: null },
      reviewReason: { type: String, default: null },
      leaseOwner: { type: String, default: null },
      leaseUntil: { type: Number, default: null },
      createdAt: Number,
      updatedAt: Number,
    },
    options,
  );
  orderSchema.index({ userId: 1, idempotencyKey: 1 }, { unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } });
  orderSchema.index({ userId: 1, createdAt: -1 });
  orderSchema.index({ status: 1, createdAt: 1 });
  const orders = conn.model('Order', orderSchema);
  const attempts = conn.model(
    'PaymentAttempt',
    new Schema(
      {
        _id: String,
        orderId: { type: String, index: true },
        requestBody: String,
        prepayId: { type: String, default: null },
        prepayExpiresAt: { type: Number, default: null },
        createdAt: Number,
      },
      options,
    ),
  );
  // _id is `${id} ${outTradeNo ?? ''}`: an id reused for another order is another notification.
  const notificationSchema = new Schema(
    {
      _id: String,
      notificationId: String,
      eventType: String,
      outTradeNo: String,
      transactionId: String,
      outcome: String,
      detail: String,
      requestId: String,
      firstReceivedAt: Number,
      lastReceivedAt: Number,
      deliveries: Number,
    },
    options,
  );
  notificationSchema.index({ outTradeNo: 1 });
  const notifications = conn.model('Notification', notificationSchema);
  const paymentSchema = new Schema(
    {
      _id: String,
      orderId: { type: String, index: true },
      outTradeNo: String,
      amount: Number,
      kind: String,
      paidAt: Number,
      refundReserved: { type: Number, default: 0 },
    },
    options,
  );
  // A day's payments in keyset pages (the daily books).
  paymentSchema.index({ paidAt: 1, _id: 1 });
  const payments = conn.model('Payment', paymentSchema);
  const refundSchema = new Schema(
    {
      _id: String,
      orderId: String,
      transactionId: String,
      outTradeNo: String,
      outRefundNo: { type: String, required: true, unique: true },
      amount: Number,
      reason: { type: String, default: null },
      status: { type: String, enum: ['PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL'] },
      providerRefundId: { type: String, default: null },
      idempotencyKey: { type: String, default: null },
      failure: { type: String, default: null },
      createdAt: Number,
      updatedAt: Number,
      settledAt: { type: Number, default: null },
    },
    options,
  );
  refundSchema.index({ orderId: 1, idempotencyKey: 1 }, { unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } });
  refundSchema.index({ orderId: 1, createdAt: 1 });
  refundSchema.index({ status: 1, createdAt: 1 });
  refundSchema.index({ createdAt: 1, outRefundNo: 1 });
  const refunds = conn.model('Refund', refundSchema);
  const rejected = conn.model(
    'RejectedNotification',
    new Schema({ receivedAt: Number, reason: String, serial: String, requestId: String, bodySha256: String }, options),
  );
  // One document per order; `doc` holds the domain's record as the domain wrote it, the rest is for queries.
  const shipmentSchema = new Schema(
    {
      _id: String,
      status: String,
      upload: String,
      version: Number,
      doc: String,
      updatedAt: Number,
      claimUntil: { type: Number, default: null },
    },
    options,
  );
  shipmentSchema.index({ upload: 1, status: 1, updatedAt: 1 });
  const shipments = conn.model('Shipment', shipmentSchema);
  const usedKeys = conn.model('UsedKey', new Schema({ _id: String, expiresAt: { type: Number, index: true } }, options));
  const opsSessions = conn.model(
    'OpsSession',
    new Schema(
      { _id: String, tokenFingerprint: String, createdAt: { type: Number, index: true }, lastSeenAt: { type: Number, index: true } },
      options,
    ),
  );
  // One document per reconciled day (_id: YYYY-MM-DD); `doc` is the domain's result, replaced whole.
  const books = conn.model('Book', new Schema({ _id: String, doc: String }, options));
  // One document per send credit; `doc` is the domain's record.
  const creditSchema = new Schema(
    {
      _id: String,
      orderId: String,
      state: String,
      claimUntil: { type: Number, default: null },
      createdAt: Number,
      version: Number,
      doc: String,
    },
    options,
  );
  creditSchema.index({ orderId: 1 });
  creditSchema.index({ state: 1, createdAt: 1 });
  const sendCredits = conn.model('SendCredit', creditSchema);
  // One document per complaint; `doc` is the domain's record, the rest is for queries and the conditional write.
  const complaintSchema = new Schema(
    {
      _id: String,
      orderId: { type: String, default: null },
      state: String,
      deadline: { type: Number, default: null },
      createdAt: Number,
      version: Number,
      doc: String,
    },
    options,
  );
  complaintSchema.index({ state: 1, deadline: 1 });
  complaintSchema.index({ orderId: 1 });
  const complaints = conn.model('Complaint', complaintSchema);
  // The keys a bill named while its day is reconciled (_id: run + ' ' + key), dropped after.
  const billKeys = conn.model('BillKey', new Schema({ _id: String, run: { type: String, index: true }, key: String }, options));
  return {
    users,
    sessions,
    products,
    orders,
    attempts,
    notifications,
    payments,
    refunds,
    rejected,
    shipments,
    usedKeys,
    opsSessions,
    books,
    billKeys,
    complaints,
    sendCredits,
  };
}

export type Models = ReturnType<typeof defineModels>;

/** The unique indexes the domain relies on, by `<collection>.<index name>` as E11000 errors name them. */
export const UNIQUE_INDEXES: Record<string, DuplicateKeyIndex> = {
  'users.openid_1': 'openid',
  'sessions._id_': 'token',
  'orders.outTradeNo_1': 'out_trade_no',
  'orders.userId_1_idempotencyKey_1': 'idempotency_key',
  'paymentattempts._id_': 'out_trade_no',
  'notifications._id_': 'notification_id',
  'refunds.outRefundNo_1': 'out_refund_no',
  'refunds.orderId_1_idempotencyKey_1': 'idempotency_key',
};
