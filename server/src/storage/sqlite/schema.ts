// Idempotent DDL; every unique index the payment flow relies on is declared here.
/** Columns added after the first release, for databases created before them. */
export const ADDED_COLUMNS: [table: string, column: string, ddl: string][] = [
  ['orders', 'lease_owner', 'ALTER TABLE orders ADD COLUMN lease_owner TEXT'],
  ['orders', 'lease_until', 'ALTER TABLE orders ADD COLUMN lease_until INTEGER'],
];

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
  paid_after_close INTEGER NOT NULL DEFAULT 0,
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
CREATE TABLE IF NOT EXISTS notifications (
  id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  out_trade_no TEXT,
  transaction_id TEXT,
  outcome TEXT NOT NULL,
  detail TEXT,
  request_id TEXT,
  first_received_at INTEGER NOT NULL,
  last_received_at INTEGER NOT NULL,
  deliveries INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected_notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  serial TEXT,
  request_id TEXT,
  body_sha256 TEXT NOT NULL
);
`;
