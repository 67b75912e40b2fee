// Idempotent DDL; every unique index the payment flow relies on is declared here.
/** Columns added after the first release, for databases created before them. */
export const ADDED_COLUMNS: [table: string, column: string, ddl: string][] = [
  ['orders', 'lease_owner', 'ALTER TABLE orders ADD COLUMN lease_owner TEXT'],
  ['orders', 'lease_until', 'ALTER TABLE orders ADD COLUMN lease_until INTEGER'],
  ['orders', 'review_reason', 'ALTER TABLE orders ADD COLUMN review_reason TEXT'],
  ['shipments', 'claim_until', 'ALTER TABLE shipments ADD COLUMN claim_until INTEGER'],
];

/** Columns no release reads any more, dropped from databases created before. */
export const DROPPED_COLUMNS: [table: string, column: string][] = [['orders', 'paid_after_close']];

/** Notifications, keyed by (id, ref): an id reused for another order is another notification. */
const NOTIFICATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS notifications (
  id TEXT NOT NULL,
  -- the out_trade_no the notification names ('' for none): an id reused for another order is another notification
  ref TEXT NOT NULL,
  event_type TEXT NOT NULL,
  out_trade_no TEXT,
  transaction_id TEXT,
  outcome TEXT NOT NULL,
  detail TEXT,
  request_id TEXT,
  first_received_at INTEGER NOT NULL,
  last_received_at INTEGER NOT NULL,
  deliveries INTEGER NOT NULL,
  PRIMARY KEY (id, ref)
);
`;

/** Notifications keyed by (id, ref) since refunds: rebuilds a table keyed by id alone, keeping its rows. */
export const NOTIFICATIONS_REKEY = `
ALTER TABLE notifications RENAME TO notifications_by_id;
${NOTIFICATIONS_TABLE}
INSERT INTO notifications SELECT id, COALESCE(out_trade_no, ''), event_type, out_trade_no, transaction_id, outcome, detail, request_id,
  first_received_at, last_received_at, deliveries FROM notifications_by_id;
DROP TABLE notifications_by_id;
`;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  openid TEXT NOT NULL UNIQUE,
  unionid TEXT,
  session_key TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_at);
CREATE TABLE IF NOT EXISTS products (
  sku TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  price INTEGER NOT NULL CHECK (price >= 0),
  currency TEXT NOT NULL,
  max_quantity INTEGER NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  lines TEXT NOT NULL,
  total INTEGER NOT NULL CHECK (total > 0),
  currency TEXT NOT NULL,
  description TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('PENDING', 'PAID', 'CLOSED')),
  out_trade_no TEXT NOT NULL UNIQUE,
  pay_deadline INTEGER NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT,
  transaction_id TEXT,
  paid_at INTEGER,
  closed_at INTEGER,
  lease_owner TEXT,
  lease_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS orders_user_idempotency ON orders(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS orders_user_created ON orders(user_id, created_at);
CREATE INDEX IF NOT EXISTS orders_status_created ON orders(status, created_at);
CREATE TABLE IF NOT EXISTS payment_attempts (
  out_trade_no TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  request_body TEXT NOT NULL,
  prepay_id TEXT,
  prepay_expires_at INTEGER,
  created_at INTEGER NOT NULL
);
${NOTIFICATIONS_TABLE}
CREATE INDEX IF NOT EXISTS notifications_out_trade_no ON notifications(out_trade_no);
CREATE TABLE IF NOT EXISTS payments (
  transaction_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  out_trade_no TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  kind TEXT NOT NULL CHECK (kind IN ('ORDER', 'DUPLICATE', 'AFTER_CLOSE')),
  paid_at INTEGER NOT NULL,
  -- the sum of this payment's refunds that are not CLOSED; never more than the amount
  refund_reserved INTEGER NOT NULL DEFAULT 0 CHECK (refund_reserved >= 0 AND refund_reserved <= amount)
);
CREATE INDEX IF NOT EXISTS payments_order ON payments(order_id);
CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  transaction_id TEXT NOT NULL REFERENCES payments(transaction_id),
  out_trade_no TEXT NOT NULL,
  out_refund_no TEXT NOT NULL UNIQUE,
  amount INTEGER NOT NULL CHECK (amount > 0),
  reason TEXT,
  status TEXT NOT NULL CHECK (status IN ('PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL')),
  provider_refund_id TEXT,
  idempotency_key TEXT,
  failure TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  settled_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS refunds_order_idempotency ON refunds(order_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS refunds_order ON refunds(order_id, created_at);
CREATE INDEX IF NOT EXISTS refunds_status ON refunds(status, created_at);
CREATE TABLE IF NOT EXISTS shipments (
  order_id TEXT PRIMARY KEY REFERENCES orders(id),
  status TEXT NOT NULL CHECK (status IN ('SHIPPED', 'RECEIVED', 'COMPLETED')),
  upload TEXT NOT NULL CHECK (upload IN ('PENDING', 'ACCEPTED', 'REFUSED')),
  version INTEGER NOT NULL,
  doc TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  -- until when an upload in flight holds it (null: none)
  claim_until INTEGER
);
CREATE INDEX IF NOT EXISTS shipments_sync ON shipments(upload, status, updated_at);
CREATE TABLE IF NOT EXISTS ops_sessions (
  id_hash TEXT PRIMARY KEY,
  token_fingerprint TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS used_keys (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS used_keys_expiry ON used_keys(expires_at);
CREATE INDEX IF NOT EXISTS payments_paid ON payments(paid_at, transaction_id);
CREATE INDEX IF NOT EXISTS refunds_created ON refunds(created_at, out_refund_no);
CREATE TABLE IF NOT EXISTS books (
  date TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS send_credits (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('AVAILABLE', 'SENDING', 'SENT', 'GIVEN_UP')),
  claim_until INTEGER,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS send_credits_order ON send_credits(order_id);
CREATE INDEX IF NOT EXISTS send_credits_state ON send_credits(state, created_at);
CREATE TABLE IF NOT EXISTS complaints (
  id TEXT PRIMARY KEY,
  order_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('NEW', 'IN_PROGRESS', 'RESOLVED')),
  -- null once resolved: open complaints sort by it
  deadline INTEGER,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS complaints_state ON complaints(state, deadline);
CREATE INDEX IF NOT EXISTS complaints_order ON complaints(order_id);
-- the keys a bill named, while its day is reconciled (dropped after)
CREATE TABLE IF NOT EXISTS bill_keys (
  run TEXT NOT NULL,
  key TEXT NOT NULL,
  PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected_notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  serial TEXT,
  request_id TEXT,
  body_sha256 TEXT NOT NULL
);
`;
