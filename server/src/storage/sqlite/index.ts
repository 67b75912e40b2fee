// The embedded default: better-sqlite3, WAL, synchronous=FULL so a committed payment
// state survives a crash. Calls are synchronous inside; the port is async for parity with MongoDB.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Product } from '../../domain/catalog';
import { DuplicateKeyError, StoreUnavailableError } from '../../domain/errors';
import type { NotificationRecord, RejectedNotification } from '../../domain/notification';
import type { Order, PaymentAttempt } from '../../domain/order';
import type { Session, User } from '../../domain/user';
import type { PaidUpdate, Store } from '../port';
import { ADDED_COLUMNS, SCHEMA } from './schema';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' for tests. */
  filename: string;
}

type Row = Record<string, unknown>;

function mapError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const msg = String((err as Error).message);
    if (msg.includes('idempotency')) return new DuplicateKeyError('idempotency_key');
    if (msg.includes('out_trade_no')) return new DuplicateKeyError('out_trade_no');
    if (msg.includes('notifications.id')) return new DuplicateKeyError('notification_id');
    if (msg.includes('openid')) return new DuplicateKeyError('openid');
    if (msg.includes('token_hash')) return new DuplicateKeyError('token');
    return new DuplicateKeyError('other');
  }
  if (code.startsWith('SQLITE_') || (err instanceof TypeError && /database connection is not open/.test(err.message))) {
    return new StoreUnavailableError(err);
  }
  return err;
}

function guard<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(mapError(err));
  }
}

const toOrder = (r: Row): Order => ({
  id: r.id as string,
  userId: r.user_id as string,
  lines: JSON.parse(r.lines as string),
  total: r.total as number,
  currency: 'CNY',
  description: r.description as string,
  status: r.status as Order['status'],
  outTradeNo: r.out_trade_no as string,
  payDeadline: r.pay_deadline as number,
  idempotencyKey: (r.idempotency_key as string | null) ?? null,
  requestHash: (r.request_hash as string | null) ?? null,
  transactionId: (r.transaction_id as string | null) ?? null,
  paidAt: (r.paid_at as number | null) ?? null,
  closedAt: (r.closed_at as number | null) ?? null,
  paidAfterClose: r.paid_after_close === 1,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

const toAttempt = (r: Row): PaymentAttempt => ({
  outTradeNo: r.out_trade_no as string,
  orderId: r.order_id as string,
  requestBody: r.request_body as string,
  prepayId: (r.prepay_id as string | null) ?? null,
  prepayExpiresAt: (r.prepay_expires_at as number | null) ?? null,
  createdAt: r.created_at as number,
});

const toNotification = (r: Row): NotificationRecord => ({
  id: r.id as string,
  eventType: r.event_type as string,
  outTradeNo: (r.out_trade_no as string | null) ?? null,
  transactionId: (r.transaction_id as string | null) ?? null,
  outcome: r.outcome as NotificationRecord['outcome'],
  detail: (r.detail as string | null) ?? null,
  requestId: (r.request_id as string | null) ?? null,
  firstReceivedAt: r.first_received_at as number,
  lastReceivedAt: r.last_received_at as number,
  deliveries: r.deliveries as number,
});

const toUser = (r: Row): User => ({
  id: r.id as string,
  openid: r.openid as string,
  unionid: (r.unionid as string | null) ?? null,
  sessionKey: r.session_key as string,
  createdAt: r.created_at as number,
});

export function createSqliteStore(opts: SqliteStoreOptions): Store {
  if (opts.filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(opts.filename)), { recursive: true });
  const db = new Database(opts.filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  for (const [table, column, ddl] of ADDED_COLUMNS) {
    const columns = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column)) db.exec(ddl);
  }

  const q = {
    userByOpenid: db.prepare('SELECT * FROM users WHERE openid = ?'),
    userById: db.prepare('SELECT * FROM users WHERE id = ?'),
    insertUser: db.prepare(
      'INSERT INTO users (id, openid, unionid, session_key, created_at) VALUES (@id, @openid, @unionid, @session_key, @created_at)',
    ),
    updateUser: db.prepare('UPDATE users SET session_key = @session_key, unionid = COALESCE(@unionid, unionid) WHERE openid = @openid'),
    insertSession: db.prepare('INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)'),
    findSession: db.prepare('SELECT * FROM sessions WHERE token_hash = ?'),
    deleteSession: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
    listProducts: db.prepare('SELECT * FROM products ORDER BY position'),
    seedProduct: db.prepare(
      `INSERT INTO products (sku, name, description, price, currency, max_quantity, position)
       VALUES (@sku, @name, @description, @price, @currency, @maxQuantity, @position) ON CONFLICT(sku) DO NOTHING`,
    ),
    insertOrder: db.prepare(
      `INSERT INTO orders (id, user_id, lines, total, currency, description, status, out_trade_no, pay_deadline,
         idempotency_key, request_hash, transaction_id, paid_at, closed_at, paid_after_close, created_at, updated_at)
       VALUES (@id, @userId, @lines, @total, @currency, @description, @status, @outTradeNo, @payDeadline,
         @idempotencyKey, @requestHash, @transactionId, @paidAt, @closedAt, 0, @createdAt, @updatedAt)`,
    ),
    insertAttempt: db.prepare(
      `INSERT INTO payment_attempts (out_trade_no, order_id, request_body, prepay_id, prepay_expires_at, created_at)
       VALUES (@outTradeNo, @orderId, @requestBody, @prepayId, @prepayExpiresAt, @createdAt)`,
    ),
    findOrder: db.prepare('SELECT * FROM orders WHERE id = ?'),
    findOrderByKey: db.prepare('SELECT * FROM orders WHERE user_id = ? AND idempotency_key = ?'),
    listOrders: db.prepare('SELECT * FROM orders WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
    findAttempt: db.prepare('SELECT * FROM payment_attempts WHERE out_trade_no = ?'),
    setPrepay: db.prepare('UPDATE payment_attempts SET prepay_id = ?, prepay_expires_at = ? WHERE out_trade_no = ?'),
    switchAttempt: db.prepare(
      `UPDATE orders SET out_trade_no = @next, updated_at = @now
       WHERE id = @orderId AND status = 'PENDING' AND out_trade_no = @previous`,
    ),
    markPaid: db.prepare(
      `UPDATE orders SET status = 'PAID', transaction_id = @transactionId, paid_at = @paidAt, updated_at = @now
       WHERE id = @orderId AND status = 'PENDING'`,
    ),
    markClosed: db.prepare(
      `UPDATE orders SET status = 'CLOSED', closed_at = @now, updated_at = @now WHERE id = @orderId AND status = 'PENDING'`,
    ),
    flagPaidAfterClose: db.prepare(
      `UPDATE orders SET paid_after_close = 1, transaction_id = COALESCE(transaction_id, @transactionId), updated_at = @now
       WHERE id = @orderId AND status = 'CLOSED'`,
    ),
    reconcileCandidates: db.prepare(
      `SELECT * FROM orders WHERE status = 'PENDING' AND created_at <= ? AND (lease_until IS NULL OR lease_until < ?)
       ORDER BY created_at LIMIT ?`,
    ),
    claimOrder: db.prepare(
      `UPDATE orders SET lease_owner = @owner, lease_until = @leaseUntil
       WHERE id = @orderId AND status = 'PENDING' AND (lease_until IS NULL OR lease_until < @now)`,
    ),
    releaseOrder: db.prepare('UPDATE orders SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?'),
    insertNotification: db.prepare(
      `INSERT INTO notifications (id, event_type, out_trade_no, transaction_id, outcome, detail, request_id,
         first_received_at, last_received_at, deliveries)
       VALUES (@id, @eventType, @outTradeNo, @transactionId, @outcome, @detail, @requestId, @firstReceivedAt, @lastReceivedAt, 1)
       ON CONFLICT(id) DO UPDATE SET deliveries = deliveries + 1, last_received_at = excluded.last_received_at,
         outcome = CASE WHEN outcome IN (SELECT value FROM json_each(@replaces)) THEN excluded.outcome ELSE outcome END,
         detail = CASE WHEN outcome IN (SELECT value FROM json_each(@replaces)) THEN excluded.detail ELSE detail END
       RETURNING *, (deliveries > 1) AS duplicate`,
    ),
    findNotification: db.prepare('SELECT * FROM notifications WHERE id = ?'),
    insertRejected: db.prepare(
      'INSERT INTO rejected_notifications (received_at, reason, serial, request_id, body_sha256) VALUES (?, ?, ?, ?, ?)',
    ),
    countRejected: db.prepare('SELECT COUNT(*) AS n FROM rejected_notifications'),
  };

  const insertOrderTx = db.transaction((order: Order, attempt: PaymentAttempt) => {
    q.insertOrder.run({ ...order, lines: JSON.stringify(order.lines) });
    q.insertAttempt.run(attempt);
  });

  const replaceAttemptTx = db.transaction((orderId: string, previous: string, attempt: PaymentAttempt, now: number) => {
    const changed = q.switchAttempt.run({ orderId, previous, next: attempt.outTradeNo, now }).changes === 1;
    if (!changed) return false;
    q.insertAttempt.run(attempt);
    return true;
  });

  const upsertUserTx = db.transaction((openid: string, unionid: string | null, sessionKey: string, now: number) => {
    const existing = q.userByOpenid.get(openid) as Row | undefined;
    if (existing) {
      q.updateUser.run({ openid, unionid, session_key: sessionKey });
    } else {
      q.insertUser.run({ id: `u_${crypto.randomUUID()}`, openid, unionid, session_key: sessionKey, created_at: now });
    }
    return toUser(q.userByOpenid.get(openid) as Row);
  });

  return {
    kind: 'sqlite',
    upsertUser: ({ openid, unionid, sessionKey, now }) => guard(() => upsertUserTx(openid, unionid, sessionKey, now)),
    findUserById: (id) =>
      guard(() => {
        const r = q.userById.get(id) as Row | undefined;
        return r ? toUser(r) : null;
      }),
    createSession: (s: Session) => guard(() => void q.insertSession.run(s.tokenHash, s.userId, s.expiresAt)),
    findSession: (tokenHash) =>
      guard(() => {
        const r = q.findSession.get(tokenHash) as Row | undefined;
        return r ? { tokenHash: r.token_hash as string, userId: r.user_id as string, expiresAt: r.expires_at as number } : null;
      }),
    deleteSession: (tokenHash) => guard(() => void q.deleteSession.run(tokenHash)),
    listProducts: () =>
      guard(() =>
        (q.listProducts.all() as Row[]).map(
          (r): Product => ({
            sku: r.sku as string,
            name: r.name as string,
            description: r.description as string,
            price: r.price as number,
            currency: 'CNY',
            maxQuantity: r.max_quantity as number,
          }),
        ),
      ),
    seedProducts: (products: readonly Product[]) =>
      guard(() => db.transaction(() => products.forEach((p, position) => q.seedProduct.run({ ...p, position })))()),
    insertOrder: (order, attempt) => guard(() => insertOrderTx(order, attempt)),
    findOrder: (id) =>
      guard(() => {
        const r = q.findOrder.get(id) as Row | undefined;
        return r ? toOrder(r) : null;
      }),
    findOrderByIdempotencyKey: (userId, key) =>
      guard(() => {
        const r = q.findOrderByKey.get(userId, key) as Row | undefined;
        return r ? toOrder(r) : null;
      }),
    listOrdersByUser: (userId, limit) => guard(() => (q.listOrders.all(userId, limit) as Row[]).map(toOrder)),
    findAttempt: (outTradeNo) =>
      guard(() => {
        const r = q.findAttempt.get(outTradeNo) as Row | undefined;
        return r ? toAttempt(r) : null;
      }),
    setPrepay: (outTradeNo, prepayId, expiresAt) => guard(() => void q.setPrepay.run(prepayId, expiresAt, outTradeNo)),
    replaceAttempt: (orderId, previous, attempt, now) => guard(() => replaceAttemptTx(orderId, previous, attempt, now)),
    markPaid: (orderId, u: PaidUpdate, now) =>
      guard(() => q.markPaid.run({ orderId, transactionId: u.transactionId, paidAt: u.paidAt, now }).changes === 1),
    markClosed: (orderId, now) => guard(() => q.markClosed.run({ orderId, now }).changes === 1),
    flagPaidAfterClose: (orderId, u, now) =>
      guard(() => void q.flagPaidAfterClose.run({ orderId, transactionId: u.transactionId, now })),
    listReconcileCandidates: (createdBefore, now, limit) =>
      guard(() => (q.reconcileCandidates.all(createdBefore, now, limit) as Row[]).map(toOrder)),
    claimOrder: (orderId, owner, leaseUntil, now) => guard(() => q.claimOrder.run({ orderId, owner, leaseUntil, now }).changes === 1),
    releaseOrder: (orderId, owner) => guard(() => void q.releaseOrder.run(orderId, owner)),
    recordNotification: (rec: NotificationRecord, replaces) =>
      guard(() => {
        const r = q.insertNotification.get({ ...rec, replaces: JSON.stringify(replaces) }) as Row;
        return { record: toNotification(r), duplicate: r.duplicate === 1 };
      }),
    findNotification: (id) =>
      guard(() => {
        const r = q.findNotification.get(id) as Row | undefined;
        return r ? toNotification(r) : null;
      }),
    recordRejectedNotification: (x: RejectedNotification) =>
      guard(() => void q.insertRejected.run(x.receivedAt, x.reason, x.serial, x.requestId, x.bodySha256)),
    countRejectedNotifications: () => guard(() => (q.countRejected.get() as { n: number }).n),
    close: () => guard(() => void db.close()),
  };
}
