// The embedded default: better-sqlite3 in WAL mode, every write answered only once it is on disk, so
// a committed payment state survives a crash (synchronous=FULL's promise; the group commit syncs the
// WAL itself, off the event loop: see group-commit.ts). Reads are synchronous inside; the port is async
// for parity with MongoDB.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Product } from '../../domain/catalog';
import { DuplicateKeyError, type DuplicateKeyIndex, StoreUnavailableError } from '../../domain/errors';
import type { NotificationOutcome, NotificationRecord, RejectedNotification } from '../../domain/notification';
import type { Order, PaymentAttempt } from '../../domain/order';
import type { PaymentRecord, Refund } from '../../domain/refund';
import type { Session, User } from '../../domain/user';
import type { Shipment } from '../../domain/shipment';
import type { BookDay } from '../../domain/book-day';
import type { Complaint } from '../../domain/complaint';
import type { SendCredit } from '../../domain/subscription';
import { recordsOfPage, type OrderLease, type PaidUpdate, type Store } from '../../domain/ports/store';
import { createGroupCommit, type Sync } from './group-commit';
import { ADDED_COLUMNS, DROPPED_COLUMNS, NOTIFICATIONS_REKEY, SCHEMA } from './schema';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' for tests. */
  filename: string;
  /** How the WAL file is synced (default: fdatasync on the thread pool); tests inject a failing one. */
  syncWal?: Sync;
}

type Row = Record<string, unknown>;

/** The unique constraints of schema.ts, as SQLite names them ("UNIQUE constraint failed: <columns>"). */
const UNIQUE_CONSTRAINTS: Record<string, DuplicateKeyIndex> = {
  'orders.user_id, orders.idempotency_key': 'idempotency_key',
  'refunds.order_id, refunds.idempotency_key': 'idempotency_key',
  'orders.out_trade_no': 'out_trade_no',
  'payment_attempts.out_trade_no': 'out_trade_no',
  'refunds.out_refund_no': 'out_refund_no',
  'notifications.id, notifications.ref': 'notification_id',
  'users.openid': 'openid',
  'sessions.token_hash': 'token',
};

function mapError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = /constraint failed: (.*)$/.exec(String((err as Error).message))?.[1] ?? '';
    return new DuplicateKeyError(UNIQUE_CONSTRAINTS[columns] ?? 'other');
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
  reviewReason: (r.review_reason as string | null) ?? null,
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

const toPayment = (r: Row): PaymentRecord => ({
  transactionId: r.transaction_id as string,
  orderId: r.order_id as string,
  outTradeNo: r.out_trade_no as string,
  amount: r.amount as number,
  kind: r.kind as PaymentRecord['kind'],
  paidAt: r.paid_at as number,
  refundReserved: r.refund_reserved as number,
});

const toRefund = (r: Row): Refund => ({
  id: r.id as string,
  orderId: r.order_id as string,
  transactionId: r.transaction_id as string,
  outTradeNo: r.out_trade_no as string,
  outRefundNo: r.out_refund_no as string,
  amount: r.amount as number,
  reason: (r.reason as string | null) ?? null,
  status: r.status as Refund['status'],
  providerRefundId: (r.provider_refund_id as string | null) ?? null,
  idempotencyKey: (r.idempotency_key as string | null) ?? null,
  failure: (r.failure as string | null) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
  settledAt: (r.settled_at as number | null) ?? null,
});

const toUser = (r: Row): User => ({
  id: r.id as string,
  openid: r.openid as string,
  unionid: (r.unionid as string | null) ?? null,
  sessionKey: r.session_key as string,
  createdAt: r.created_at as number,
});

/**
 * Puts the file in WAL mode. Switching needs the file to itself, and SQLite answers "database is locked" at
 * once (no busy wait) when another connection is opening it at the same moment: so it is tried again for up
 * to the busy timeout, sleeping a little between tries. This happens while the store opens, before anything
 * is served.
 */
function switchToWal(db: Database.Database): void {
  const until = Date.now() + 5000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal' || db.pragma('journal_mode = WAL', { simple: true }) === 'wal') return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > until) throw err;
    }
    if (Date.now() > until) throw new Error('the database would not switch to WAL mode');
    Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
  }
}

export function createSqliteStore(opts: SqliteStoreOptions): Store {
  if (opts.filename !== ':memory:') {
    // The folder and the files hold payment records: readable by this user only. SQLite creates the
    // -wal and -shm files with the main file's mode.
    const dir = path.dirname(path.resolve(opts.filename));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    fs.closeSync(fs.openSync(opts.filename, 'a', 0o600));
    for (const f of [opts.filename, `${opts.filename}-wal`, `${opts.filename}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
  }
  const db = new Database(opts.filename);
  // Processes opening the file together (cluster workers) wait for each other's locks instead of failing
  // at once with "database is locked".
  db.pragma('busy_timeout = 5000');
  if (opts.filename !== ':memory:') switchToWal(db);
  const onDisk = opts.filename !== ':memory:';
  // On disk, COMMIT writes the WAL and the group commit syncs it (FULL would sync inside COMMIT,
  // blocking the event loop for the disk's time). NORMAL still syncs around checkpoints itself.
  db.pragma(`synchronous = ${onDisk ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // The schema and its migrations in one transaction that holds the write lock from its start: processes
  // opening the file together (cluster workers) take turns, and each finds what the one before it did.
  const hasColumn = (table: string, column: string) =>
    (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
  db.transaction(() => {
    db.exec(SCHEMA);
    for (const [table, column, ddl] of ADDED_COLUMNS) if (!hasColumn(table, column)) db.exec(ddl);
    for (const [table, column] of DROPPED_COLUMNS) if (hasColumn(table, column)) db.exec(`ALTER TABLE ${table} DROP COLUMN ${column}`);
    if (!hasColumn('notifications', 'ref')) db.exec(NOTIFICATIONS_REKEY);
    db.exec(SCHEMA); // indexes of rebuilt tables
  }).immediate();
  // The WAL, opened to be synced (never written through this descriptor). Read-write: Windows will not
  // flush a file opened for reading. What the schema's creation or migration wrote is on disk before the
  // first request.
  const openWal = () => fs.openSync(`${opts.filename}-wal`, 'r+');
  let walFd: number | null = null;
  if (onDisk && fs.existsSync(`${opts.filename}-wal`)) {
    walFd = openWal();
    fs.fdatasyncSync(walFd);
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
    sessionUser: db.prepare(
      'SELECT u.*, s.token_hash AS s_token_hash, s.expires_at AS s_expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?',
    ),
    deleteSession: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
    deleteUserSessions: db.prepare('DELETE FROM sessions WHERE user_id = ?'),
    purgeSessions: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
    listProducts: db.prepare('SELECT * FROM products ORDER BY position'),
    seedProduct: db.prepare(
      `INSERT INTO products (sku, name, description, price, currency, max_quantity, position)
       VALUES (@sku, @name, @description, @price, @currency, @maxQuantity, @position) ON CONFLICT(sku) DO NOTHING`,
    ),
    insertOrder: db.prepare(
      `INSERT INTO orders (id, user_id, lines, total, currency, description, status, out_trade_no, pay_deadline,
         idempotency_key, request_hash, transaction_id, paid_at, closed_at, created_at, updated_at, lease_owner, lease_until)
       VALUES (@id, @userId, @lines, @total, @currency, @description, @status, @outTradeNo, @payDeadline,
         @idempotencyKey, @requestHash, @transactionId, @paidAt, @closedAt, @createdAt, @updatedAt, @leaseOwner, @leaseUntil)`,
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
    flagForReview: db.prepare('UPDATE orders SET review_reason = @reason, updated_at = @now WHERE id = @orderId AND review_reason IS NULL'),
    reconcileCandidates: db.prepare(
      `SELECT * FROM orders WHERE status = 'PENDING' AND created_at <= ? AND (lease_until IS NULL OR lease_until < ?)
         AND review_reason IS NULL
       ORDER BY created_at LIMIT ?`,
    ),
    insertPayment: db.prepare(
      `INSERT INTO payments (transaction_id, order_id, out_trade_no, amount, kind, paid_at, refund_reserved)
       VALUES (@transactionId, @orderId, @outTradeNo, @amount, @kind, @paidAt, 0) ON CONFLICT(transaction_id) DO NOTHING`,
    ),
    findPayment: db.prepare('SELECT * FROM payments WHERE transaction_id = ?'),
    listPayments: db.prepare('SELECT * FROM payments WHERE order_id = ? ORDER BY paid_at, transaction_id'),
    reserve: db.prepare(
      'UPDATE payments SET refund_reserved = refund_reserved + @amount WHERE transaction_id = @transactionId AND refund_reserved + @amount <= amount',
    ),
    unreserve: db.prepare('UPDATE payments SET refund_reserved = refund_reserved - @amount WHERE transaction_id = @transactionId'),
    insertRefund: db.prepare(
      `INSERT INTO refunds (id, order_id, transaction_id, out_trade_no, out_refund_no, amount, reason, status, provider_refund_id,
         idempotency_key, failure, created_at, updated_at, settled_at)
       VALUES (@id, @orderId, @transactionId, @outTradeNo, @outRefundNo, @amount, @reason, @status, @providerRefundId,
         @idempotencyKey, @failure, @createdAt, @updatedAt, @settledAt)`,
    ),
    moveRefund: db.prepare(
      `UPDATE refunds SET status = @to, provider_refund_id = COALESCE(@providerRefundId, provider_refund_id),
         settled_at = COALESCE(@settledAt, settled_at), failure = COALESCE(@failure, failure), updated_at = @now
       WHERE out_refund_no = @outRefundNo AND status IN (SELECT value FROM json_each(@from))
       RETURNING transaction_id, amount`,
    ),
    setRefundProviderId: db.prepare(
      'UPDATE refunds SET provider_refund_id = @providerRefundId, updated_at = @now WHERE out_refund_no = @outRefundNo AND provider_refund_id IS NULL',
    ),
    findRefund: db.prepare('SELECT * FROM refunds WHERE out_refund_no = ?'),
    findRefundByKey: db.prepare('SELECT * FROM refunds WHERE order_id = ? AND idempotency_key = ?'),
    listRefunds: db.prepare('SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at, id'),
    saveBook: db.prepare('INSERT INTO books (date, doc) VALUES (?, ?) ON CONFLICT(date) DO UPDATE SET doc = excluded.doc'),
    findBook: db.prepare('SELECT doc FROM books WHERE date = ?'),
    listBooks: db.prepare('SELECT doc FROM books WHERE date >= ? AND date <= ? ORDER BY date DESC'),
    // Keyset pages along (time, key), the index's own order: each page starts where the last ended.
    paymentsPaidBetween: db.prepare(
      `SELECT * FROM payments WHERE paid_at < @to AND (paid_at, transaction_id) > (@at, @key)
         ORDER BY paid_at, transaction_id LIMIT @limit`,
    ),
    refundsCreatedBetween: db.prepare(
      `SELECT * FROM refunds WHERE created_at < @to AND (created_at, out_refund_no) > (@at, @key)
         ORDER BY created_at, out_refund_no LIMIT @limit`,
    ),
    paymentsPaidNotIn: db.prepare(
      `SELECT * FROM payments p WHERE paid_at < @to AND (paid_at, transaction_id) > (@at, @key)
         AND NOT EXISTS (SELECT 1 FROM bill_keys b WHERE b.run = @run AND b.key = p.transaction_id)
         ORDER BY paid_at, transaction_id LIMIT @limit`,
    ),
    refundsCreatedNotIn: db.prepare(
      `SELECT * FROM refunds r WHERE created_at < @to AND (created_at, out_refund_no) > (@at, @key)
         AND NOT EXISTS (SELECT 1 FROM bill_keys b WHERE b.run = @run AND b.key = r.out_refund_no)
         ORDER BY created_at, out_refund_no LIMIT @limit`,
    ),
    stageBillKey: db.prepare('INSERT OR IGNORE INTO bill_keys (run, key) VALUES (?, ?)'),
    dropBillKeys: db.prepare('DELETE FROM bill_keys WHERE run = ?'),
    // A page's records: the order ids bound as one JSON array (json_each), whatever their number.
    paymentsOfOrders: db.prepare(
      'SELECT * FROM payments WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY paid_at, transaction_id',
    ),
    refundsOfOrders: db.prepare('SELECT * FROM refunds WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id'),
    refundsToReconcile: db.prepare("SELECT * FROM refunds WHERE status = 'PROCESSING' AND created_at <= ? ORDER BY created_at, id LIMIT ?"),
    listOrdersAdmin: db.prepare(
      `SELECT * FROM orders o WHERE (@status IS NULL OR o.status = @status)
         AND (@createdBefore IS NULL OR o.created_at < @createdBefore)
         AND (@refundDue = 0 OR EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.kind != 'ORDER' AND p.refund_reserved < p.amount))
       ORDER BY o.created_at DESC, o.id DESC LIMIT @limit`,
    ),
    listAttempts: db.prepare('SELECT * FROM payment_attempts WHERE order_id = ? ORDER BY created_at, out_trade_no'),
    notificationsFor: db.prepare(
      'SELECT * FROM notifications WHERE out_trade_no IN (SELECT value FROM json_each(?)) ORDER BY first_received_at, id',
    ),
    claimOrder: db.prepare(
      `UPDATE orders SET lease_owner = @owner, lease_until = @leaseUntil
       WHERE id = @orderId AND status = 'PENDING' AND (lease_until IS NULL OR lease_until < @now)`,
    ),
    releaseOrder: db.prepare('UPDATE orders SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?'),
    insertNotification: db.prepare(
      `INSERT INTO notifications (id, ref, event_type, out_trade_no, transaction_id, outcome, detail, request_id,
         first_received_at, last_received_at, deliveries)
       VALUES (@id, @ref, @eventType, @outTradeNo, @transactionId, @outcome, @detail, @requestId, @firstReceivedAt, @lastReceivedAt, 1)
       ON CONFLICT(id, ref) DO UPDATE SET deliveries = deliveries + 1, last_received_at = excluded.last_received_at,
         outcome = CASE WHEN outcome IN (SELECT value FROM json_each(@replaces)) THEN excluded.outcome ELSE outcome END,
         detail = CASE WHEN outcome IN (SELECT value FROM json_each(@replaces)) THEN excluded.detail ELSE detail END
       RETURNING *, (deliveries > 1) AS duplicate`,
    ),
    findNotification: db.prepare('SELECT * FROM notifications WHERE id = ? AND ref = ?'),
    insertRejected: db.prepare(
      'INSERT INTO rejected_notifications (received_at, reason, serial, request_id, body_sha256) VALUES (?, ?, ?, ?, ?)',
    ),
    countRejected: db.prepare('SELECT COUNT(*) AS n FROM rejected_notifications'),
    claimOnce: db.prepare(
      'INSERT INTO used_keys (key, expires_at) VALUES (@key, @expiresAt) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_keys.expires_at <= @now',
    ),
    releaseClaim: db.prepare('DELETE FROM used_keys WHERE key = ?'),
    purgeClaims: db.prepare('DELETE FROM used_keys WHERE expires_at <= ?'),
    createOpsSession: db.prepare(
      'INSERT INTO ops_sessions (id_hash, token_fingerprint, created_at, last_seen_at) VALUES (@idHash, @tokenFingerprint, @createdAt, @lastSeenAt)',
    ),
    findOpsSession: db.prepare('SELECT * FROM ops_sessions WHERE id_hash = ?'),
    touchOpsSession: db.prepare('UPDATE ops_sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id_hash = ?'),
    deleteOpsSession: db.prepare('DELETE FROM ops_sessions WHERE id_hash = ?'),
    purgeOpsSessions: db.prepare('DELETE FROM ops_sessions WHERE created_at <= ? OR last_seen_at <= ?'),
    trimRejected: db.prepare('DELETE FROM rejected_notifications WHERE seq <= (SELECT MAX(seq) FROM rejected_notifications) - ?'),
  };

  const insertOrderTx = db.transaction((order: Order, attempt: PaymentAttempt, lease: OrderLease | undefined) => {
    q.insertOrder.run({ ...order, lines: JSON.stringify(order.lines), leaseOwner: lease?.owner ?? null, leaseUntil: lease?.until ?? null });
    q.insertAttempt.run(attempt);
  });

  const replaceAttemptTx = db.transaction((orderId: string, previous: string, attempt: PaymentAttempt, now: number) => {
    const changed = q.switchAttempt.run({ orderId, previous, next: attempt.outTradeNo, now }).changes === 1;
    if (!changed) return false;
    q.insertAttempt.run(attempt);
    return true;
  });

  const insertNotification = (rec: NotificationRecord, replaces: readonly NotificationOutcome[]) => {
    const r = q.insertNotification.get({ ...rec, ref: rec.outTradeNo ?? '', replaces: JSON.stringify(replaces) }) as Row;
    return { record: toNotification(r), duplicate: r.duplicate === 1 };
  };
  const insertRefundTx = db.transaction((refund: Refund): boolean => {
    if (q.reserve.run({ transactionId: refund.transactionId, amount: refund.amount }).changes !== 1) return false;
    q.insertRefund.run(refund);
    return true;
  });

  const moveRefundTx = db.transaction(
    (
      outRefundNo: string,
      from: readonly string[],
      to: string,
      fields: { providerRefundId?: string | null; settledAt?: number | null; failure?: string | null },
      release: boolean,
      now: number,
    ): boolean => {
      const moved = q.moveRefund.get({
        outRefundNo,
        from: JSON.stringify(from),
        to,
        providerRefundId: fields.providerRefundId ?? null,
        settledAt: fields.settledAt ?? null,
        failure: fields.failure ?? null,
        now,
      }) as { transaction_id: string; amount: number } | undefined;
      if (!moved) return false;
      if (release) q.unreserve.run({ transactionId: moved.transaction_id, amount: moved.amount });
      return true;
    },
  );

  const upsertUserTx = db.transaction((openid: string, unionid: string | null, sessionKey: string, now: number) => {
    const existing = q.userByOpenid.get(openid) as Row | undefined;
    if (existing) {
      q.updateUser.run({ openid, unionid, session_key: sessionKey });
    } else {
      q.insertUser.run({ id: `u_${crypto.randomUUID()}`, openid, unionid, session_key: sessionKey, created_at: now });
    }
    return toUser(q.userByOpenid.get(openid) as Row);
  });

  const shipmentQ = {
    find: db.prepare('SELECT doc FROM shipments WHERE order_id = ?'),
    insert: db.prepare(
      'INSERT OR IGNORE INTO shipments (order_id, status, upload, version, doc, updated_at, claim_until) VALUES (@orderId, @status, @upload, @version, @doc, @updatedAt, @claimUntil)',
    ),
    update: db.prepare(
      'UPDATE shipments SET status = @status, upload = @upload, version = @version, doc = @doc, updated_at = @updatedAt, claim_until = @claimUntil WHERE order_id = @orderId AND version = @expected',
    ),
    ofOrders: db.prepare('SELECT doc FROM shipments WHERE order_id IN (SELECT value FROM json_each(?))'),
    toSync: db.prepare(
      `SELECT doc FROM shipments WHERE (upload = 'PENDING' OR (upload = 'ACCEPTED' AND status != 'COMPLETED'))
         AND (claim_until IS NULL OR claim_until <= @now) ORDER BY updated_at, order_id LIMIT @limit`,
    ),
  };
  const creditQ = {
    insert: db.prepare(
      'INSERT OR IGNORE INTO send_credits (id, order_id, state, claim_until, created_at, version, doc) VALUES (@id, @orderId, @state, @claimUntil, @createdAt, @version, @doc)',
    ),
    update: db.prepare(
      'UPDATE send_credits SET state = @state, claim_until = @claimUntil, version = @version, doc = @doc WHERE id = @id AND version = @expected',
    ),
    ofOrder: db.prepare('SELECT doc FROM send_credits WHERE order_id = ? ORDER BY created_at, id'),
    // isSendable (domain/subscription.ts).
    toSend: db.prepare(
      `SELECT doc FROM send_credits WHERE state = 'AVAILABLE' OR (state = 'SENDING' AND COALESCE(claim_until, 0) <= @now)
         ORDER BY created_at, id LIMIT @limit`,
    ),
  };
  const creditRow = (c: SendCredit) => ({
    id: c.id,
    orderId: c.orderId,
    state: c.state,
    claimUntil: c.claimUntil,
    createdAt: c.createdAt,
    version: c.version,
    doc: JSON.stringify(c),
  });
  const complaintQ = {
    find: db.prepare('SELECT doc FROM complaints WHERE id = ?'),
    insert: db.prepare(
      'INSERT OR IGNORE INTO complaints (id, order_id, state, deadline, created_at, version, doc) VALUES (@id, @orderId, @state, @deadline, @createdAt, @version, @doc)',
    ),
    update: db.prepare(
      'UPDATE complaints SET order_id = @orderId, state = @state, deadline = @deadline, version = @version, doc = @doc WHERE id = @id AND version = @expected',
    ),
    // Open ones by deadline (nulls, the resolved, last), then newest.
    list: db.prepare(
      `SELECT doc FROM complaints WHERE (@state IS NULL OR state = @state) AND (@orderId IS NULL OR order_id = @orderId)
         ORDER BY deadline IS NULL, deadline, created_at DESC LIMIT @limit`,
    ),
  };
  const paymentsOf = (orderId: string) => (q.listPayments.all(orderId) as Row[]).map(toPayment);
  const refundsOf = (orderId: string) => (q.listRefunds.all(orderId) as Row[]).map(toRefund);
  const shipmentOf = (orderId: string) => {
    const r = shipmentQ.find.get(orderId) as { doc: string } | undefined;
    return r ? (JSON.parse(r.doc) as Shipment) : null;
  };
  const syncWal: Sync = (done) => {
    try {
      walFd ??= openWal();
    } catch (err) {
      return done(new StoreUnavailableError(err));
    }
    fs.fdatasync(walFd, (err) => done(err ? new StoreUnavailableError(err) : null));
  };
  const commits = createGroupCommit(db, mapError, onDisk ? (opts.syncWal ?? syncWal) : null);
  /** A write: queued for the next group commit; resolves once that commit is on disk. */
  const write = <T>(fn: () => T): Promise<T> => commits.write(fn);
  /** Several statements read in one transaction: one snapshot, and one WAL read lock (two fcntl calls)
   *  instead of one per statement; another process's commit cannot fall between them. */
  const snapshot: <T>(fn: () => T) => T = db.transaction((fn: () => unknown) => fn()) as never;
  /** A read. After a failed WAL sync nothing is answered (fail-stop, /api/health included): what the
   *  connection shows may not be on disk, and only a restart (recovery from the WAL) can tell. */
  const read = <T>(fn: () => T): Promise<T> => {
    const failed = commits.failure();
    return failed ? Promise.reject(failed) : guard(fn);
  };

  return {
    kind: 'sqlite',
    commitStats: () => commits.stats(),
    upsertUser: ({ openid, unionid, sessionKey, now }) => write(() => upsertUserTx(openid, unionid, sessionKey, now)),
    findUserById: (id) =>
      read(() => {
        const r = q.userById.get(id) as Row | undefined;
        return r ? toUser(r) : null;
      }),
    createSession: (s: Session) => write(() => void q.insertSession.run(s.tokenHash, s.userId, s.expiresAt)),
    findSessionUser: (tokenHash) =>
      read(() => {
        const r = q.sessionUser.get(tokenHash) as Row | undefined;
        return r
          ? {
              session: { tokenHash: r.s_token_hash as string, userId: r.id as string, expiresAt: r.s_expires_at as number },
              user: toUser(r),
            }
          : null;
      }),
    findSession: (tokenHash) =>
      read(() => {
        const r = q.findSession.get(tokenHash) as Row | undefined;
        return r ? { tokenHash: r.token_hash as string, userId: r.user_id as string, expiresAt: r.expires_at as number } : null;
      }),
    deleteSession: (tokenHash) => write(() => void q.deleteSession.run(tokenHash)),
    deleteSessionsOfUser: (userId) => write(() => q.deleteUserSessions.run(userId).changes),
    purgeExpiredSessions: (now) => write(() => q.purgeSessions.run(now).changes),
    listProducts: () =>
      read(() =>
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
      write(() =>
        db.transaction(() => {
          for (const [position, p] of products.entries()) q.seedProduct.run({ ...p, position });
        })(),
      ),
    insertOrder: (order, attempt, lease) => write(() => insertOrderTx(order, attempt, lease)),
    findOrder: (id) =>
      read(() => {
        const r = q.findOrder.get(id) as Row | undefined;
        return r ? toOrder(r) : null;
      }),
    findOrderRecords: (id) =>
      read(() =>
        snapshot(() => {
          const r = q.findOrder.get(id) as Row | undefined;
          if (!r) return null;
          return { order: toOrder(r), payments: paymentsOf(id), refunds: refundsOf(id), shipment: shipmentOf(id) };
        }),
      ),
    findRecordsOfOrders: (orders) =>
      read(() => {
        if (orders.length === 0) return [];
        const ids = JSON.stringify(orders.map((o) => o.id));
        return snapshot(() =>
          recordsOfPage(
            orders,
            (q.paymentsOfOrders.all(ids) as Row[]).map(toPayment),
            (q.refundsOfOrders.all(ids) as Row[]).map(toRefund),
            (shipmentQ.ofOrders.all(ids) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Shipment),
          ),
        );
      }),
    findOrderByIdempotencyKey: (userId, key) =>
      read(() => {
        const r = q.findOrderByKey.get(userId, key) as Row | undefined;
        return r ? toOrder(r) : null;
      }),
    listOrdersByUser: (userId, limit) => read(() => (q.listOrders.all(userId, limit) as Row[]).map(toOrder)),
    findAttempt: (outTradeNo) =>
      read(() => {
        const r = q.findAttempt.get(outTradeNo) as Row | undefined;
        return r ? toAttempt(r) : null;
      }),
    setPrepay: (outTradeNo, prepayId, expiresAt, release) =>
      write(() => {
        q.setPrepay.run(prepayId, expiresAt, outTradeNo);
        if (release) q.releaseOrder.run(release.orderId, release.owner);
      }),
    replaceAttempt: (orderId, previous, attempt, now) => write(() => replaceAttemptTx(orderId, previous, attempt, now)),
    markPaid: (orderId, u: PaidUpdate, now, also) =>
      write(() => {
        if (q.markPaid.run({ orderId, transactionId: u.transactionId, paidAt: u.paidAt, now }).changes !== 1) return false;
        if (also) q.insertPayment.run(also.payment);
        if (also?.notification) insertNotification(also.notification.record, also.notification.replaces);
        return true;
      }),
    markClosed: (orderId, now) => write(() => q.markClosed.run({ orderId, now }).changes === 1),
    flagForReview: (orderId, reason, now) => write(() => q.flagForReview.run({ orderId, reason, now }).changes === 1),
    recordPayment: (p) => write(() => q.insertPayment.run(p).changes === 1),
    findPayment: (transactionId) =>
      read(() => {
        const r = q.findPayment.get(transactionId) as Row | undefined;
        return r ? toPayment(r) : null;
      }),
    listPayments: (orderId) => read(() => paymentsOf(orderId)),
    insertRefund: (refund) => write(() => insertRefundTx(refund)),
    moveRefund: (outRefundNo, from, to, fields, release, now) => write(() => moveRefundTx(outRefundNo, from, to, fields, release, now)),
    setRefundProviderId: (outRefundNo, providerRefundId, now) =>
      write(() => void q.setRefundProviderId.run({ outRefundNo, providerRefundId, now })),
    findRefund: (outRefundNo) =>
      read(() => {
        const r = q.findRefund.get(outRefundNo) as Row | undefined;
        return r ? toRefund(r) : null;
      }),
    findRefundByIdempotencyKey: (orderId, key) =>
      read(() => {
        const r = q.findRefundByKey.get(orderId, key) as Row | undefined;
        return r ? toRefund(r) : null;
      }),
    listRefunds: (orderId) => read(() => refundsOf(orderId)),
    listRefundsToReconcile: (createdBefore, limit) => read(() => (q.refundsToReconcile.all(createdBefore, limit) as Row[]).map(toRefund)),
    listOrders: (f) =>
      read(() =>
        (
          q.listOrdersAdmin.all({
            status: f.status ?? null,
            createdBefore: f.createdBefore ?? null,
            refundDue: f.refundDue ? 1 : 0,
            limit: f.limit,
          }) as Row[]
        ).map(toOrder),
      ),
    listAttempts: (orderId) => read(() => (q.listAttempts.all(orderId) as Row[]).map(toAttempt)),
    listNotificationsFor: (outTradeNos) => read(() => (q.notificationsFor.all(JSON.stringify(outTradeNos)) as Row[]).map(toNotification)),
    listReconcileCandidates: (createdBefore, now, limit) =>
      read(() => (q.reconcileCandidates.all(createdBefore, now, limit) as Row[]).map(toOrder)),
    claimOrder: (orderId, owner, leaseUntil, now) => write(() => q.claimOrder.run({ orderId, owner, leaseUntil, now }).changes === 1),
    releaseOrder: (orderId, owner) => write(() => void q.releaseOrder.run(orderId, owner)),
    recordNotification: (rec: NotificationRecord, replaces) => write(() => insertNotification(rec, replaces)),
    findNotification: (id, outTradeNo) =>
      read(() => {
        const r = q.findNotification.get(id, outTradeNo ?? '') as Row | undefined;
        return r ? toNotification(r) : null;
      }),
    recordRejectedNotification: (x: RejectedNotification) =>
      write(() => void q.insertRejected.run(x.receivedAt, x.reason, x.serial, x.requestId, x.bodySha256)),
    countRejectedNotifications: () => read(() => (q.countRejected.get() as { n: number }).n),
    trimRejectedNotifications: (keep) => write(() => void q.trimRejected.run(keep)),
    findShipment: (orderId) => read(() => shipmentOf(orderId)),
    saveShipment: (next, expected) =>
      write(() => {
        const row = {
          orderId: next.orderId,
          status: next.status,
          upload: next.upload,
          version: next.version,
          doc: JSON.stringify(next),
          updatedAt: next.updatedAt,
          claimUntil: next.uploadClaim?.until ?? null,
        };
        return (expected === null ? shipmentQ.insert.run(row) : shipmentQ.update.run({ ...row, expected })).changes === 1;
      }),
    listShipmentsToSync: (now, limit) =>
      read(() => (shipmentQ.toSync.all({ now, limit }) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Shipment)),
    claimOnce: (key, expiresAt, now) => write(() => q.claimOnce.run({ key, expiresAt, now }).changes === 1),
    releaseClaim: (key) => write(() => void q.releaseClaim.run(key)),
    purgeClaims: (now) => write(() => q.purgeClaims.run(now).changes),
    createOpsSession: (x) => write(() => void q.createOpsSession.run(x)),
    insertCredit: (c) => write(() => creditQ.insert.run(creditRow(c)).changes === 1),
    saveCredit: (c, expected) => write(() => creditQ.update.run({ ...creditRow(c), expected }).changes === 1),
    listCredits: (orderId) => read(() => (creditQ.ofOrder.all(orderId) as { doc: string }[]).map((r) => JSON.parse(r.doc) as SendCredit)),
    listCreditsToSend: (now, limit) =>
      read(() => (creditQ.toSend.all({ now, limit }) as { doc: string }[]).map((r) => JSON.parse(r.doc) as SendCredit)),
    findComplaint: (id) =>
      read(() => {
        const r = complaintQ.find.get(id) as { doc: string } | undefined;
        return r ? (JSON.parse(r.doc) as Complaint) : null;
      }),
    saveComplaint: (next, expected) =>
      write(() => {
        const row = {
          id: next.id,
          orderId: next.orderId,
          state: next.state,
          deadline: next.deadline,
          createdAt: next.createdAt,
          version: next.version,
          doc: JSON.stringify(next),
        };
        return (expected === null ? complaintQ.insert.run(row) : complaintQ.update.run({ ...row, expected })).changes === 1;
      }),
    listComplaints: (f) =>
      read(() =>
        (complaintQ.list.all({ state: f.state ?? null, orderId: f.orderId ?? null, limit: f.limit }) as { doc: string }[]).map(
          (r) => JSON.parse(r.doc) as Complaint,
        ),
      ),
    saveBookDay: (day) => write(() => void q.saveBook.run(day.date, JSON.stringify(day))),
    findBookDay: (date) =>
      read(() => {
        const r = q.findBook.get(date) as { doc: string } | undefined;
        return r ? (JSON.parse(r.doc) as BookDay) : null;
      }),
    listBookDays: (from, to) => read(() => (q.listBooks.all(from, to) as { doc: string }[]).map((r) => JSON.parse(r.doc) as BookDay)),
    // No cursor: from the range's start (every key sorts after '' at one instant).
    listPaymentsPaidBetween: (from, to, after, limit, notIn) =>
      read(() => {
        const p = { to, at: after?.at ?? from, key: after?.key ?? '', limit };
        return ((notIn === undefined ? q.paymentsPaidBetween.all(p) : q.paymentsPaidNotIn.all({ ...p, run: notIn })) as Row[]).map(
          toPayment,
        );
      }),
    listRefundsCreatedBetween: (from, to, after, limit, notIn) =>
      read(() => {
        const p = { to, at: after?.at ?? from, key: after?.key ?? '', limit };
        return ((notIn === undefined ? q.refundsCreatedBetween.all(p) : q.refundsCreatedNotIn.all({ ...p, run: notIn })) as Row[]).map(
          toRefund,
        );
      }),
    stageBillKeys: (run, keys) =>
      write(() => {
        for (const k of keys) q.stageBillKey.run(run, k);
      }),
    dropBillKeys: (run) => write(() => void q.dropBillKeys.run(run)),
    findOpsSession: (idHash) =>
      read(() => {
        const r = q.findOpsSession.get(idHash) as Row | undefined;
        return r
          ? {
              idHash: r.id_hash as string,
              tokenFingerprint: r.token_fingerprint as string,
              createdAt: r.created_at as number,
              lastSeenAt: r.last_seen_at as number,
            }
          : null;
      }),
    touchOpsSession: (idHash, lastSeenAt) => write(() => void q.touchOpsSession.run(lastSeenAt, idHash)),
    deleteOpsSession: (idHash) => write(() => void q.deleteOpsSession.run(idHash)),
    purgeOpsSessions: (createdBefore, seenBefore) => write(() => q.purgeOpsSessions.run(createdBefore, seenBefore).changes),
    close: async () => {
      await commits.drain();
      await guard(() => db.close());
      if (walFd !== null) fs.closeSync(walFd);
      walFd = null;
    },
  };
}
