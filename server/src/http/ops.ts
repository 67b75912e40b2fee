// /admin: the operator's page. Server-rendered HTML, no script at all: orders with filters, one order's
// attempts, payments, notifications and refunds, refused notifications by reason, small charts of the
// last day, "reconcile now", and a refund with an amount. Signed in with the admin token, kept in an
// HttpOnly, SameSite=Strict cookie; every form POST must come from this origin.
import crypto from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { adminListOrders, adminOrder } from '../domain/admin';
import type { CheckoutDeps } from '../domain/deps';
import { AppError } from '../domain/errors';
import { statusOf } from './errors';
import type { OrderStatus } from '../domain/order';
import type { ReconcileReport } from '../domain/reconcile';
import { requestRefund } from '../domain/refunds';
import { shipOrder, type FulfilmentDeps } from '../domain/fulfilment';
import type { LogisticsType } from '../domain/shipment';
import type { ReminderLog } from '../domain/reminders';
import { orderIdParam } from './schemas';

export interface OpsDeps {
  payments: CheckoutDeps;
  fulfilment: FulfilmentDeps;
  reminders: ReminderLog;
  adminToken: string | null;
  reconcileNow(): Promise<ReconcileReport>;
  /** Refused notification deliveries since start, by reason. */
  refusedNotifications(): Record<string, number>;
}

const COOKIE = 'ops_session';

/** A form post from this site: the browser says so (Sec-Fetch-Site), or its Origin is ours; an opaque "null" origin is not. */
function sameOrigin(req: Request): boolean {
  const site = req.get('Sec-Fetch-Site');
  if (site) return site === 'same-origin';
  const origin = req.get('Origin');
  if (origin === undefined) return true; // not a browser's cross-site request (those carry Origin on POST)
  try {
    return new URL(origin).host === req.get('Host');
  } catch {
    return false;
  }
}

/** Escapes text for HTML; `raw` marks markup built here. */
class Raw {
  constructor(readonly html: string) {}
}
const raw = (html: string) => new Raw(html);
const esc = (v: unknown): string =>
  v instanceof Raw
    ? v.html
    : Array.isArray(v)
      ? v.map(esc).join('')
      : v === null || v === undefined
        ? ''
        : String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const html = (strings: TemplateStringsArray, ...values: unknown[]) =>
  raw(strings.reduce((out, s, i) => out + s + (i < values.length ? esc(values[i]) : ''), ''));

const yuan = (fen: number) => `¥${(fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const time = (iso: string | number | null) =>
  iso === null ? '—' : new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

/** "12.34" or "12" yuan → 1234 fen, exactly; null for anything else. */
export function parseYuan(input: string): number | null {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(input);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

const CSS = `body{font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1f2329;background:#f5f6f7}
header{background:#07c160;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}header a{color:#fff;text-decoration:none;font-weight:600}
header form{margin-left:auto}main{padding:16px 20px;max-width:1200px}section{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 16px}
h1{font-size:18px;margin:0}h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{color:#646a73;font-weight:500}td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#8f959e}.ok{color:#07a85a}.warn{color:#d83931}.pending{color:#de7802}
form.inline{display:flex;gap:8px;flex-wrap:wrap;align-items:end}label{display:flex;flex-direction:column;font-size:12px;color:#646a73;gap:2px}
input,select,button{font:inherit;padding:6px 10px;border:1px solid #d0d3d6;border-radius:6px;min-height:36px;box-sizing:border-box}button{background:#07c160;color:#fff;border-color:#07c160;cursor:pointer}
button.secondary{background:#fff;color:#1f2329;border-color:#d0d3d6}.flash{padding:8px 12px;border-radius:6px;background:#e8f8ef;margin-bottom:12px}.flash.error{background:#fdecec}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}svg text{font-size:10px;fill:#646a73}code{font-size:12px}
.narrow{max-width:420px}figure{margin:0}.spaced{margin-top:12px}label.check{flex-direction:row;align-items:center;gap:6px}`;

function page(title: string, body: Raw, opts: { signedIn?: boolean } = {}): string {
  return html`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · 运营后台</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/admin/ops.css"></head>
<body><header><a href="/admin">运营后台 · Ops</a><span>${title}</span>${opts.signedIn ? html`<form method="post" action="/admin/logout"><button class="secondary" type="submit">退出</button></form>` : ''}</header>
<main>${body}</main></body></html>`.html;
}

/** A bar chart as inline SVG: one bar per bucket, the largest value labelled. */
function bars(title: string, buckets: { label: string; value: number }[], color = '#07c160'): Raw {
  const w = 24 * buckets.length;
  const h = 90;
  const max = Math.max(1, ...buckets.map((b) => b.value));
  const rects = buckets.map((b, i) => {
    const bh = Math.round((b.value / max) * (h - 30));
    return html`<rect x="${i * 24 + 3}" y="${h - 14 - bh}" width="18" height="${bh}" fill="${color}"><title>${b.label}: ${b.value}</title></rect>${
      i % 4 === 0 || buckets.length <= 8 ? html`<text x="${i * 24 + 12}" y="${h - 2}" text-anchor="middle">${b.label}</text>` : ''
    }${b.value ? html`<text x="${i * 24 + 12}" y="${h - 17 - bh}" text-anchor="middle">${b.value}</text>` : ''}`;
  });
  return html`<figure><figcaption class="muted">${title}</figcaption><svg role="img" aria-label="${title}" viewBox="0 0 ${Math.max(w, 100)} ${h}" width="100%">${rects}</svg></figure>`;
}

const statusLabel: Record<OrderStatus, string> = { PENDING: '待支付', PAID: '已支付', CLOSED: '已关闭' };
const statusClass: Record<OrderStatus, string> = { PENDING: 'pending', PAID: 'ok', CLOSED: 'muted' };

const LOGISTICS: Record<LogisticsType, string> = { express: '快递', 'same-city': '同城配送', virtual: '虚拟商品', pickup: '用户自提' };
const SHIP_STATUS: Record<string, string> = { SHIPPED: '已发货', RECEIVED: '已收货', COMPLETED: '已完成' };
const UPLOAD: Record<string, string> = { PENDING: '等待上传（自动重试）', ACCEPTED: '微信已接收', REFUSED: '微信拒绝' };

function shipmentSection(
  orderId: string,
  paid: boolean,
  s: import('../domain/shipment').Shipment | null,
  carriers: { id: string; name: string }[],
): Raw {
  if (!paid && !s) return html``;
  const form = (label: string) => html`<form method="post" action="/admin/orders/${orderId}/ship" class="inline" aria-label="发货">
<label>配送方式<select name="logisticsType">${(Object.keys(LOGISTICS) as LogisticsType[]).map((k) => html`<option value="${k}"${raw(s?.logisticsType === k ? ' selected' : '')}>${LOGISTICS[k]}</option>`)}</select></label>
<label>快递公司<select name="carrier"><option value="">（快递必选）</option>${carriers.map((c) => html`<option value="${c.id}"${raw(s?.packages[0]?.carrier === c.id ? ' selected' : '')}>${c.name} ${c.id}</option>`)}</select></label>
<label>运单号<input name="trackingNo" maxlength="128" value="${s?.packages[0]?.trackingNo ?? ''}"></label><button type="submit">${label}</button></form>`;
  if (!s) return html`<section><h2>发货</h2><p class="pending">待发货</p>${form('发货')}</section>`;
  return html`<section><h2>发货 · <span class="${s.status === 'SHIPPED' ? 'pending' : 'ok'}">${SHIP_STATUS[s.status]}</span></h2>
<table><tr><th>配送</th><td>${LOGISTICS[s.logisticsType]}${s.packages.map((p) => html` · ${p.carrierName ?? p.carrier} <code>${p.trackingNo}</code>`)}</td></tr>
<tr><th>上传</th><td class="${s.upload === 'ACCEPTED' ? 'ok' : s.upload === 'REFUSED' ? 'warn' : 'pending'}">${UPLOAD[s.upload]}（第 ${s.uploadAttempts} 次）${s.refusal ? html`<div class="warn">${s.refusal.code}：${s.refusal.message}</div><div>怎么办：${s.refusal.fix}</div>` : ''}</td></tr>
<tr><th>微信订单状态</th><td>${s.wechatState ?? '—'}</td></tr><tr><th>商品描述</th><td>${s.itemDesc}</td></tr>
<tr><th>修改次数</th><td>${s.shipCount === 2 ? '已修改一次（微信只允许修改一次）' : '可修改一次'}</td></tr></table>
${s.status === 'SHIPPED' && !(s.upload === 'ACCEPTED' && s.shipCount >= 2) ? form('修改发货信息') : ''}</section>`;
}

export function opsRoutes(deps: OpsDeps): Router {
  const r = express.Router();
  const token = deps.adminToken;
  const session = token ? crypto.createHmac('sha256', token).update('ops-session').digest('base64url') : null;
  const same = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const cookieOf = (req: Request) => /(?:^|;\s*)ops_session=([\w-]+)/.exec(req.get('Cookie') ?? '')?.[1] ?? '';

  r.use((req, res, next) => {
    if (!token) throw new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);
    // The page has no script and takes nothing from elsewhere.
    res.set(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    res.set('Cache-Control', 'no-store');
    // Browsers send Origin on this site's own form posts only with a referrer policy that allows it.
    res.set('Referrer-Policy', 'same-origin');
    // Form posts only from this origin (the cookie is SameSite=Strict as well).
    if (req.method === 'POST' && !sameOrigin(req)) throw new AppError('UNAUTHENTICATED', 'cross-site form posts are refused');
    next();
  });
  r.use(express.urlencoded({ extended: false, limit: '4kb' }));
  r.get('/ops.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(CSS);
  });

  r.get('/login', (req, res) => {
    const failed = req.query.failed === '1';
    res.type('html').send(
      page(
        '登录',
        html`<section class="narrow"><h2>运营后台登录</h2>${failed ? html`<div class="flash error">管理令牌不正确，请检查 ADMIN_TOKEN 后重试</div>` : ''}
<form method="post" action="/admin/login" class="inline"><label>管理令牌 (ADMIN_TOKEN)<input type="password" name="token" autocomplete="current-password" required autofocus></label><button type="submit">登录</button></form>
<p class="muted">令牌见服务器的 ADMIN_TOKEN；本地沙箱模式下见 DATA_DIR/admin_token。</p></section>`,
      ),
    );
  });
  r.post('/login', (req, res) => {
    const given = typeof req.body?.token === 'string' ? req.body.token : '';
    const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
    if (!crypto.timingSafeEqual(digest(given), digest(token!))) return res.redirect(303, '/admin/login?failed=1');
    res.cookie(COOKIE, session!, { httpOnly: true, sameSite: 'strict', path: '/admin', secure: req.secure, maxAge: 8 * 3600_000 });
    res.redirect(303, '/admin');
  });
  r.post('/logout', (_req, res) => {
    res.clearCookie(COOKIE, { path: '/admin' });
    res.redirect(303, '/admin/login');
  });

  // Everything below needs the session.
  r.use((req: Request, res: Response, next: NextFunction) => {
    if (same(cookieOf(req), session!)) return next();
    if (req.method === 'GET') return res.redirect(303, '/admin/login');
    throw new AppError('UNAUTHENTICATED', 'sign in at /admin/login');
  });

  r.get('/', async (req, res) => {
    const status = ['PENDING', 'PAID', 'CLOSED'].includes(String(req.query.status)) ? (String(req.query.status) as OrderStatus) : undefined;
    const refundDue = req.query.refundDue === 'on';
    const date = /^\d{4}-\d{2}-\d{2}$/.test(String(req.query.date ?? '')) ? String(req.query.date) : '';
    // A date shows that day and before (Beijing time), newest first.
    const before = date ? new Date(Date.parse(`${date}T00:00:00+08:00`) + 86_400_000).toISOString() : undefined;
    const list = await adminListOrders(deps.payments.store, { status, refundDue, before, limit: 50 });
    // The last 24 hours, by hour: orders placed and orders paid (of the latest 1,000).
    const now = deps.payments.now();
    const recent = await deps.payments.store.listOrders({ limit: 1000 });
    const hours = Array.from({ length: 24 }, (_, i) => now - (23 - i) * 3600_000);
    const bucket = (t: number | null) => (t === null || t <= now - 24 * 3600_000 ? -1 : 23 - Math.floor((now - t) / 3600_000));
    const placed = hours.map(() => 0);
    const paid = hours.map(() => 0);
    for (const o of recent) {
      const a = bucket(o.createdAt);
      if (a >= 0) placed[a]! += 1;
      const b = bucket(o.paidAt);
      if (b >= 0) paid[b]! += 1;
    }
    const label = (t: number) => new Date(t).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', hour12: false });
    const refused = Object.entries(deps.refusedNotifications()).sort((a, b) => b[1] - a[1]);
    const reminders = deps.reminders.recent().slice(0, 20);
    const flash = typeof req.query.msg === 'string' ? req.query.msg.slice(0, 200) : '';
    res.type('html').send(
      page(
        '订单',
        html`${flash ? html`<div class="flash">${flash}</div>` : ''}
<section><div class="charts">
${bars(
  '每小时下单（近 24 小时）',
  hours.map((t, i) => ({ label: label(t), value: placed[i]! })),
)}
${bars(
  '每小时支付（近 24 小时）',
  hours.map((t, i) => ({ label: label(t), value: paid[i]! })),
  '#10aeff',
)}
${
  refused.length
    ? bars(
        '被拒绝的通知（自启动以来，按原因）',
        refused.map(([k, v]) => ({ label: k, value: v })),
        '#fa5151',
      )
    : ''
}
</div>
<table aria-label="被拒绝的通知"><tr><th>拒绝原因</th><th class="n">次数</th></tr>${refused.length ? refused.map(([k, v]) => html`<tr><td><code>${k}</code></td><td class="n">${v}</td></tr>`) : html`<tr><td class="muted" colspan="2">自启动以来没有被拒绝的通知</td></tr>`}</table>
${reminders.length ? html`<table aria-label="催发货提醒" class="spaced"><tr><th>微信催发货（超过 48 小时未发货）</th><th>收到</th></tr>${reminders.map((m) => html`<tr><td class="warn">${m.orderId ? html`<a href="/admin/orders/${m.orderId}">${m.merchantTradeNo}</a>` : m.merchantTradeNo}</td><td>${time(m.receivedAt)}</td></tr>`)}</table>` : ''}
<form method="post" action="/admin/reconcile" class="spaced"><button type="submit" class="secondary">立即对账 (reconcile now)</button></form></section>
<section><h2>订单</h2>
<form method="get" action="/admin" class="inline" aria-label="筛选">
<label>状态<select name="status"><option value="">全部</option>${(['PENDING', 'PAID', 'CLOSED'] as const).map((s) => html`<option value="${s}"${raw(status === s ? ' selected' : '')}>${statusLabel[s]} ${s}</option>`)}</select></label>
<label>下单日期（及之前）<input type="date" name="date" value="${date}"></label>
<label class="check"><input type="checkbox" name="refundDue"${raw(refundDue ? ' checked' : '')}>待退款</label>
<button type="submit">筛选</button></form>
<table><tr><th>订单</th><th>状态</th><th class="n">金额</th><th>下单时间</th><th>商品</th><th>退款</th></tr>
${list.orders.length ? list.orders.map((o) => html`<tr><td><a href="/admin/orders/${o.id}">${o.outTradeNo}</a><div class="muted"><code>${o.id}</code></div></td><td class="${statusClass[o.status]}">${statusLabel[o.status]}${o.refundDue ? html` · <span class="warn">待退款</span>` : ''}${o.reviewReason ? html` · <span class="warn">需复核</span>` : ''}</td><td class="n">${yuan(o.total)}</td><td>${time(o.createdAt)}</td><td>${o.description}</td><td class="n">${o.refundedTotal ? yuan(o.refundedTotal) : ''}</td></tr>`) : html`<tr><td colspan="6" class="muted">没有符合条件的订单</td></tr>`}
</table>${list.next ? html`<p><a href="/admin?${new URLSearchParams({ ...(status ? { status } : {}), ...(refundDue ? { refundDue: 'on' } : {}), date: new Date(Date.parse(list.next) - 1).toISOString().slice(0, 10) }).toString()}">更早的订单 ›</a></p>` : ''}</section>`,
        { signedIn: true },
      ),
    );
  });

  r.post('/reconcile', async (_req, res) => {
    const report = await deps.reconcileNow();
    const msg = `对账完成：检查 ${report.examined} 笔，确认支付 ${report.paid} 笔，关闭 ${report.closed} 笔，标记复核 ${report.flagged} 笔，退款确认 ${report.refunds.settled} 笔${report.errors || report.refunds.errors ? `，出错 ${report.errors + report.refunds.errors} 笔（见日志）` : ''}`;
    res.redirect(303, `/admin?msg=${encodeURIComponent(msg)}`);
  });

  const orderPage = async (req: Request, res: Response, message?: { text: string; error: boolean }) => {
    const parsed = orderIdParam.safeParse(req.params.id);
    if (!parsed.success) throw new AppError('NOT_FOUND', 'order not found');
    const d = await adminOrder(deps.payments.store, parsed.data);
    const o = d.order;
    const refundable = d.payments.reduce((n, p) => n + p.amount - p.refundReserved, 0);
    const carriers = o.status === 'PAID' ? await deps.fulfilment.shipping.carriers().catch(() => []) : [];
    const flash = message ?? (typeof req.query.msg === 'string' ? { text: req.query.msg.slice(0, 200), error: false } : null);
    res.type('html').send(
      page(
        `订单 ${o.outTradeNo}`,
        html`${flash ? html`<div class="flash${flash.error ? ' error' : ''}" role="status">${flash.text}</div>` : ''}
<section><h2>${o.description} · <span class="${statusClass[o.status]}">${statusLabel[o.status]}</span> · ${yuan(o.total)}</h2>
<table><tr><th>订单号</th><td><code>${o.id}</code> / <code>${o.outTradeNo}</code></td></tr><tr><th>用户</th><td><code>${o.userId}</code></td></tr>
<tr><th>下单</th><td>${time(o.createdAt)}</td></tr><tr><th>支付截止</th><td>${time(o.payDeadline)}</td></tr><tr><th>支付</th><td>${time(o.paidAt)} ${o.transactionId ? html`<code>${o.transactionId}</code>` : ''}</td></tr>
<tr><th>已退款</th><td>${yuan(o.refundedTotal)}${o.refundDue ? html` · <span class="warn">有款项待退回</span>` : ''}</td></tr>${o.reviewReason ? html`<tr><th>需复核</th><td class="warn">${o.reviewReason}</td></tr>` : ''}
<tr><th>商品</th><td>${o.lines.map((l) => html`<div>${l.name} × ${l.quantity} = ${yuan(l.lineTotal)}</div>`)}</td></tr></table></section>
${shipmentSection(o.id, o.status === 'PAID', d.shipment, carriers)}
<section><h2>退款</h2>
${refundable > 0 ? html`<form method="post" action="/admin/orders/${o.id}/refund" class="inline" aria-label="退款"><label>金额（元，最多 ${yuan(refundable)}）<input name="amount" inputmode="decimal" required pattern="\\d+(\\.\\d{1,2})?" placeholder="例如 10.00"></label><label>原因（可选）<input name="reason" maxlength="80"></label><input type="hidden" name="key" value="${crypto.randomUUID()}"><button type="submit">退款</button></form>` : html`<p class="muted">没有可退的款项</p>`}
<table><tr><th>退款单号</th><th class="n">金额</th><th>状态</th><th>发起</th><th>完成</th><th>说明</th></tr>
${d.refunds.length ? d.refunds.map((f) => html`<tr><td><code>${f.outRefundNo}</code></td><td class="n">${yuan(f.amount)}</td><td class="${f.status === 'SUCCESS' ? 'ok' : f.status === 'PROCESSING' ? 'pending' : 'warn'}">${f.status}</td><td>${time(f.createdAt)}</td><td>${time(f.settledAt)}</td><td>${f.failure ?? f.reason ?? ''}</td></tr>`) : html`<tr><td colspan="6" class="muted">没有退款</td></tr>`}</table></section>
<section><h2>支付尝试</h2><table><tr><th>out_trade_no</th><th>prepay_id</th><th>创建</th></tr>
${d.attempts.map((a) => html`<tr><td><code>${a.outTradeNo}</code></td><td><code>${a.prepayId ?? '—'}</code></td><td>${time(a.createdAt)}</td></tr>`)}</table></section>
<section><h2>收到的付款</h2><table><tr><th>transaction_id</th><th class="n">金额</th><th>类型</th><th>时间</th><th class="n">已预留退款</th></tr>
${d.payments.length ? d.payments.map((p) => html`<tr><td><code>${p.transactionId}</code></td><td class="n">${yuan(p.amount)}</td><td>${p.kind}</td><td>${time(p.paidAt)}</td><td class="n">${yuan(p.refundReserved)}</td></tr>`) : html`<tr><td colspan="5" class="muted">没有付款</td></tr>`}</table></section>
<section><h2>通知</h2><table><tr><th>结果</th><th>事件</th><th>Request-ID</th><th>首次 / 最近</th><th class="n">次数</th><th>说明</th></tr>
${d.notifications.length ? d.notifications.map((n) => html`<tr><td class="${n.outcome === 'APPLIED' || n.outcome === 'ALREADY_PAID' ? 'ok' : 'warn'}">${n.outcome}</td><td>${n.eventType}</td><td><code>${n.requestId ?? '—'}</code></td><td>${time(n.firstReceivedAt)}<div class="muted">${time(n.lastReceivedAt)}</div></td><td class="n">${n.deliveries}</td><td>${n.detail ?? ''}</td></tr>`) : html`<tr><td colspan="6" class="muted">没有收到通知</td></tr>`}</table></section>`,
        { signedIn: true },
      ),
    );
  };
  r.get('/orders/:id', (req, res) => orderPage(req, res));

  r.post('/orders/:id/ship', async (req, res) => {
    const id = orderIdParam.safeParse(req.params.id);
    if (!id.success) throw new AppError('NOT_FOUND', 'order not found');
    const type = String(req.body?.logisticsType ?? '') as LogisticsType;
    if (!['express', 'same-city', 'virtual', 'pickup'].includes(type))
      return orderPage(req, res.status(400), { text: '请选择配送方式', error: true });
    const carrier = String(req.body?.carrier ?? '').trim();
    const trackingNo = String(req.body?.trackingNo ?? '').trim();
    const packages = type === 'express' ? [{ carrier, trackingNo }] : [];
    try {
      const { shipment } = await shipOrder(deps.fulfilment, id.data, { logisticsType: type, packages });
      const text =
        shipment.upload === 'ACCEPTED'
          ? '已发货，微信已收到发货信息'
          : shipment.upload === 'REFUSED'
            ? `已记录，但微信拒绝了发货信息（${shipment.refusal?.code}）：${shipment.refusal?.fix}`
            : '已记录；微信暂时未能接收，系统会自动重试上传';
      res.redirect(303, `/admin/orders/${id.data}?msg=${encodeURIComponent(text)}`);
    } catch (err) {
      if (!(err instanceof AppError) || statusOf(err) >= 500) throw err;
      await orderPage(req, res.status(statusOf(err)), { text: `未能发货：${err.message}`, error: true });
    }
  });

  r.post('/orders/:id/refund', async (req, res) => {
    const id = orderIdParam.safeParse(req.params.id);
    if (!id.success) throw new AppError('NOT_FOUND', 'order not found');
    const amount = parseYuan(String(req.body?.amount ?? ''));
    const reason =
      String(req.body?.reason ?? '')
        .trim()
        .slice(0, 80) || null;
    const key = /^[\w-]{1,64}$/.test(String(req.body?.key ?? '')) ? `ops-${req.body.key}` : null;
    if (amount === null || amount <= 0)
      return orderPage(req, res.status(400), { text: '金额应为大于 0 的数字，最多两位小数（元），例如 10.00', error: true });
    try {
      const { refund, replayed } = await requestRefund(deps.payments, id.data, { amount, reason }, key);
      res.redirect(
        303,
        `/admin/orders/${id.data}?msg=${encodeURIComponent(`${replayed ? '已提交过：' : ''}退款 ${yuan(refund.amount)} ${refund.status === 'SUCCESS' ? '已完成' : '已提交，等待微信支付确认'}（${refund.outRefundNo}）`)}`,
      );
    } catch (err) {
      if (!(err instanceof AppError) || statusOf(err) >= 500) throw err;
      await orderPage(req, res.status(statusOf(err)), { text: `未能退款：${err.message}`, error: true });
    }
  });
  return r;
}
