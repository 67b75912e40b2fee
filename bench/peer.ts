// The peer the bench runs beside the project: the shop people write from the WeChat Pay Node SDK's README
// (wechatpay-node-v3), written here from its documented behaviour. Express 5, better-sqlite3 with WAL and
// synchronous=FULL, one transaction per request; no logging, security headers, metrics or rate limits.
// Its costs are the SDK's: the merchant key's PEM parsed again for every signature, the WeChat Pay key's
// for every verification, WeChat Pay's answers taken without checking their signature, and a
// notification's AES-GCM plaintext read without checking its tag. Not a model to follow: a yardstick.
//
// The same four routes as the project, against the same sandbox: POST /api/auth/login, POST /api/orders,
// POST /api/wechatpay/notify, GET /api/orders/:id. Reads the sandbox's credentials from the environment
// (sandbox.env) and its database from PEER_DB; prints `READY <port>`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import express from 'express';
import { SEED_PRODUCTS } from '../server/src/domain/catalog';

/** A variable the peer cannot run without (sandbox.env gives them all). */
function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`bench/peer.ts needs ${name} (the sandbox's sandbox.env sets it)`);
  return v;
}
const NEEDED = [
  'PEER_DB',
  'WECHATPAY_APIV3_KEY',
  'WECHATPAY_API_BASE',
  'WECHATPAY_CERT_SERIAL',
  'WECHATPAY_MCHID',
  'WECHATPAY_NOTIFY_URL',
  'WECHATPAY_PRIVATE_KEY_FILE',
  'WECHATPAY_PUBLIC_KEY_FILE',
  'WECHAT_API_BASE',
  'WECHAT_APPID',
  'WECHAT_APP_SECRET',
] as const;
const env = Object.fromEntries(NEEDED.map((name) => [name, need(name)])) as Record<(typeof NEEDED)[number], string>;
const privateKeyPem = fs.readFileSync(env.WECHATPAY_PRIVATE_KEY_FILE, 'utf8');
const wechatPayKeyPem = fs.readFileSync(env.WECHATPAY_PUBLIC_KEY_FILE, 'utf8');
const apiV3Key = env.WECHATPAY_APIV3_KEY;
const notifyUrl = env.WECHATPAY_NOTIFY_URL;

const db = new Database(env.PEER_DB);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`
  CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, openid TEXT UNIQUE NOT NULL, session_key TEXT);
  CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expires_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, out_trade_no TEXT UNIQUE NOT NULL, lines TEXT NOT NULL,
    total INTEGER NOT NULL, description TEXT NOT NULL, status TEXT NOT NULL, prepay_id TEXT,
    transaction_id TEXT, created_at INTEGER NOT NULL, paid_at INTEGER);
`);
const addProduct = db.prepare('INSERT OR REPLACE INTO products (sku, name, price) VALUES (?, ?, ?)');
for (const p of SEED_PRODUCTS) addProduct.run(p.sku, p.name, p.price);
// The bench's pending orders for the notification scenarios (the same out_trade_nos the project gets).
const pending = Number(process.env.PEER_PENDING_ORDERS ?? 0);
if (pending) {
  const { id } = db
    .prepare("INSERT INTO users (openid) VALUES ('oBENCH000000') ON CONFLICT(openid) DO UPDATE SET openid = openid RETURNING id")
    .get() as {
    id: number;
  };
  const add = db.prepare(
    "INSERT OR IGNORE INTO orders (id, user_id, out_trade_no, lines, total, description, status, created_at) VALUES (?, ?, ?, '[]', 1, '贴纸一套', 'PENDING', ?)",
  );
  db.transaction(() => {
    for (let i = 0; i < pending; i++) add.run(`bench-${i}`, id, `BENCH${String(i).padStart(10, '0')}`, Date.now());
  })();
}

const q = {
  product: db.prepare('SELECT sku, name, price FROM products WHERE sku = ?'),
  upsertUser: db.prepare(
    'INSERT INTO users (openid, session_key) VALUES (?, ?) ON CONFLICT(openid) DO UPDATE SET session_key = excluded.session_key RETURNING id',
  ),
  addSession: db.prepare('INSERT INTO sessions (token, user_id, expires_at) VALUES (?, ?, ?)'),
  session: db.prepare('SELECT u.id, u.openid FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token = ? AND s.expires_at > ?'),
  addOrder: db.prepare(
    'INSERT INTO orders (id, user_id, out_trade_no, lines, total, description, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  setPrepay: db.prepare('UPDATE orders SET prepay_id = ? WHERE id = ?'),
  order: db.prepare('SELECT * FROM orders WHERE id = ? AND user_id = ?'),
  pay: db.prepare(
    "UPDATE orders SET status = 'PAID', transaction_id = ?, paid_at = ? WHERE out_trade_no = ? AND total = ? AND status = 'PENDING'",
  ),
  byTradeNo: db.prepare('SELECT status, total FROM orders WHERE out_trade_no = ?'),
};
const login = db.transaction((openid: string, sessionKey: string) => {
  const { id } = q.upsertUser.get(openid, sessionKey) as { id: number };
  const token = crypto.randomBytes(24).toString('hex');
  q.addSession.run(token, id, Date.now() + 7 * 86400_000);
  return token;
});

// The SDK's signing: a PEM string handed to crypto each time (parsed again on every call).
const sign = (message: string) => crypto.createSign('RSA-SHA256').update(message).sign(privateKeyPem, 'base64');
const nonce = () => crypto.randomBytes(16).toString('hex');

async function jsapi(body: Record<string, unknown>): Promise<{ prepay_id: string }> {
  const url = new URL('/v3/pay/transactions/jsapi', env.WECHATPAY_API_BASE);
  const text = JSON.stringify(body);
  const ts = Math.floor(Date.now() / 1000);
  const n = nonce();
  const signature = sign(`POST\n${url.pathname}\n${ts}\n${n}\n${text}\n`);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': 'peer-shop',
      Authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${env.WECHATPAY_MCHID}",nonce_str="${n}",signature="${signature}",timestamp="${ts}",serial_no="${env.WECHATPAY_CERT_SERIAL}"`,
    },
    body: text,
  });
  const answer = (await res.json()) as { prepay_id?: string; message?: string };
  if (!res.ok || !answer.prepay_id) throw new Error(`jsapi ${res.status}: ${answer.message}`);
  return answer as { prepay_id: string };
}

const app = express();
app.disable('x-powered-by');

type Authed = express.Request & { user?: { id: number; openid: string } };
const auth: express.RequestHandler = (req: Authed, res, next) => {
  const token = /^Bearer (\S+)$/.exec(req.get('Authorization') ?? '')?.[1];
  const user = token ? (q.session.get(token, Date.now()) as { id: number; openid: string } | undefined) : undefined;
  if (!user) return void res.status(401).json({ error: 'unauthenticated' });
  req.user = user;
  next();
};

app.post('/api/auth/login', express.json(), async (req, res) => {
  const code = (req.body as { code?: unknown })?.code;
  if (typeof code !== 'string') return void res.status(400).json({ error: 'code required' });
  const url = new URL('/sns/jscode2session', env.WECHAT_API_BASE);
  url.search = new URLSearchParams({
    appid: env.WECHAT_APPID,
    secret: env.WECHAT_APP_SECRET,
    js_code: code,
    grant_type: 'authorization_code',
  }).toString();
  const s = (await (await fetch(url)).json()) as { openid?: string; session_key?: string; errcode?: number };
  if (!s.openid) return void res.status(401).json({ error: `code2Session ${s.errcode}` });
  res.json({ token: login(s.openid, s.session_key ?? '') });
});

app.post('/api/orders', auth, express.json(), async (req: Authed, res) => {
  const items = (req.body as { items?: { sku: string; quantity: number }[] })?.items;
  if (!Array.isArray(items) || items.length === 0) return void res.status(400).json({ error: 'items required' });
  const lines = [];
  for (const it of items) {
    const p = q.product.get(it.sku) as { sku: string; name: string; price: number } | undefined;
    if (!p || !Number.isInteger(it.quantity) || it.quantity < 1) return void res.status(400).json({ error: 'bad item' });
    lines.push({ sku: p.sku, name: p.name, unitPrice: p.price, quantity: it.quantity, lineTotal: p.price * it.quantity });
  }
  const total = lines.reduce((n, l) => n + l.lineTotal, 0);
  const description = lines
    .map((l) => l.name)
    .join('、')
    .slice(0, 127);
  const id = crypto.randomUUID();
  const outTradeNo = crypto.randomBytes(12).toString('hex');
  q.addOrder.run(id, req.user!.id, outTradeNo, JSON.stringify(lines), total, description, 'PENDING', Date.now());
  const { prepay_id } = await jsapi({
    appid: env.WECHAT_APPID,
    mchid: env.WECHATPAY_MCHID,
    description,
    out_trade_no: outTradeNo,
    notify_url: notifyUrl,
    amount: { total, currency: 'CNY' },
    payer: { openid: req.user!.openid },
  });
  q.setPrepay.run(prepay_id, id);
  const timeStamp = String(Math.floor(Date.now() / 1000));
  const nonceStr = nonce();
  const pkg = `prepay_id=${prepay_id}`;
  res.status(201).json({
    order: { id, status: 'PENDING', lines, total, description, outTradeNo },
    payment: {
      timeStamp,
      nonceStr,
      package: pkg,
      signType: 'RSA',
      paySign: sign(`${env.WECHAT_APPID}\n${timeStamp}\n${nonceStr}\n${pkg}\n`),
    },
  });
});

app.get('/api/orders/:id', auth, (req: Authed, res) => {
  const o = q.order.get(req.params.id, req.user!.id) as Record<string, unknown> | undefined;
  if (!o) return void res.status(404).json({ error: 'not found' });
  res.json({
    order: {
      id: o.id,
      status: o.status,
      lines: JSON.parse(o.lines as string),
      total: o.total,
      description: o.description,
      outTradeNo: o.out_trade_no,
      transactionId: o.transaction_id,
      createdAt: new Date(o.created_at as number).toISOString(),
      paidAt: o.paid_at ? new Date(o.paid_at as number).toISOString() : null,
    },
  });
});

app.post('/api/wechatpay/notify', express.text({ type: () => true }), (req, res) => {
  const body = req.body as string;
  const h = (name: string) => req.get(name) ?? '';
  const message = `${h('Wechatpay-Timestamp')}\n${h('Wechatpay-Nonce')}\n${body}\n`;
  // The SDK's verification: the key's PEM handed to crypto each time.
  if (!crypto.createVerify('RSA-SHA256').update(message).verify(wechatPayKeyPem, h('Wechatpay-Signature'), 'base64'))
    return void res.status(401).json({ code: 'SIGN_ERROR', message: 'bad signature' });
  const { resource } = JSON.parse(body) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
  const data = Buffer.from(resource.ciphertext, 'base64');
  const decipher = crypto.createDecipheriv('aes-256-gcm', apiV3Key, resource.nonce);
  decipher.setAuthTag(data.subarray(data.length - 16));
  decipher.setAAD(Buffer.from(resource.associated_data));
  // As the SDK does: update() without final(), so the tag is never checked.
  const tx = JSON.parse(decipher.update(data.subarray(0, data.length - 16), undefined, 'utf8')) as {
    out_trade_no: string;
    transaction_id: string;
    trade_state: string;
    amount: { total: number };
  };
  if (tx.trade_state === 'SUCCESS') {
    const changed = q.pay.run(tx.transaction_id, Date.now(), tx.out_trade_no, tx.amount.total).changes;
    if (!changed) {
      const o = q.byTradeNo.get(tx.out_trade_no) as { status: string; total: number } | undefined;
      if (!o || o.total !== tx.amount.total) return void res.status(400).json({ code: 'FAIL', message: 'unknown order or amount' });
    }
  }
  res.status(204).end();
});

const server = app.listen(Number(process.env.PEER_PORT ?? 0), '127.0.0.1', () => {
  console.log(`READY ${(server.address() as { port: number }).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
