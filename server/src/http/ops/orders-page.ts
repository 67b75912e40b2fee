// The ops page's front: the last day in charts (orders placed and paid per hour, refused notifications by
// reason), WeChat's shipping reminders, "reconcile now", and the orders with filters.
import type { AdminOrderPage } from '../../domain/admin';
import type { Order, OrderStatus } from '../../domain/order';
import type { ShippingReminder } from '../../domain/reminders';
import { bars } from './charts';
import { html, raw, time, yuan } from './html';
import { ORDER_STATUS } from './words';

/** A key WeChat Pay verifies with, and until when (null: it does not expire). */
export interface KeyExpiry {
  name: string;
  serial: string;
  notAfter: number | null;
}

export interface OrdersPageData {
  now: number;
  keys: KeyExpiry[];
  /** The latest orders, for the charts. */
  recent: Order[];
  refused: Record<string, number>;
  reminders: ShippingReminder[];
  filter: { status?: OrderStatus; refundDue: boolean; date: string };
  list: AdminOrderPage;
}

function lastDay(now: number, recent: Order[]) {
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
  return {
    placed: hours.map((t, i) => ({ label: label(t), value: placed[i]! })),
    paid: hours.map((t, i) => ({ label: label(t), value: paid[i]! })),
  };
}

/** The keys WeChat Pay's messages are verified with, each one's expiry; a warning 30 days ahead. */
function keysTable(now: number, keys: KeyExpiry[]) {
  if (keys.length === 0) return '';
  const rows = keys.map((k) => {
    if (k.notAfter === null) return html`<tr><td>${k.name}</td><td><code>${k.serial}</code></td><td class="ok">长期有效</td></tr>`;
    const days = Math.floor((k.notAfter - now) / 86_400_000);
    const soon = days < 30;
    return html`<tr><td>${k.name}</td><td><code>${k.serial}</code></td><td class="${soon ? 'warn' : 'ok'}">${time(k.notAfter)} 到期（${days} 天）${
      soon ? '：请确认微信已列出新证书，或改用微信支付公钥' : ''
    }</td></tr>`;
  });
  return html`<table aria-label="微信支付验签密钥" class="spaced"><tr><th>验签密钥</th><th>序列号 / ID</th><th>有效期</th></tr>${rows}</table>`;
}

export function ordersPage(d: OrdersPageData) {
  const day = lastDay(d.now, d.recent);
  const refused = Object.entries(d.refused).sort((a, b) => b[1] - a[1]);
  const { status, refundDue, date } = d.filter;
  const refusedRows = refused.length
    ? refused.map(([k, v]) => html`<tr><td><code>${k}</code></td><td class="n">${v}</td></tr>`)
    : html`<tr><td class="muted" colspan="2">自启动以来没有被拒绝的通知</td></tr>`;
  const reminderRows = d.reminders.map(
    (m) =>
      html`<tr><td class="warn">${m.orderId ? html`<a href="/admin/orders/${m.orderId}">${m.merchantTradeNo}</a>` : m.merchantTradeNo}</td><td>${time(m.receivedAt)}</td></tr>`,
  );
  const orderRow = (o: AdminOrderPage['orders'][number]) => {
    const flags = html`${o.refundDue ? html` · <span class="warn">待退款</span>` : ''}${o.reviewReason ? html` · <span class="warn">需复核</span>` : ''}`;
    return html`<tr><td><a href="/admin/orders/${o.id}">${o.outTradeNo}</a><div class="muted"><code>${o.id}</code></div></td>
<td class="${ORDER_STATUS[o.status].css}">${ORDER_STATUS[o.status].label}${flags}</td><td class="n">${yuan(o.total)}</td><td>${time(o.createdAt)}</td>
<td>${o.description}</td><td class="n">${o.refundedTotal ? yuan(o.refundedTotal) : ''}</td></tr>`;
  };
  const older = d.list.next
    ? new URLSearchParams({
        ...(status ? { status } : {}),
        ...(refundDue ? { refundDue: 'on' } : {}),
        date: new Date(Date.parse(d.list.next) - 1).toISOString().slice(0, 10),
      })
    : null;
  return html`<section><div class="charts">
${bars('每小时下单（近 24 小时）', day.placed)}
${bars('每小时支付（近 24 小时）', day.paid, '#10aeff')}
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
<table aria-label="被拒绝的通知"><tr><th>拒绝原因</th><th class="n">次数</th></tr>${refusedRows}</table>
${d.reminders.length ? html`<table aria-label="催发货提醒" class="spaced"><tr><th>微信催发货（超过 48 小时未发货）</th><th>收到</th></tr>${reminderRows}</table>` : ''}
${keysTable(d.now, d.keys)}
<form method="post" action="/admin/reconcile" class="spaced"><button type="submit" class="secondary">立即对账 (reconcile now)</button></form>
<p><a href="/admin/books">每日对账（微信支付账单）›</a> · <a href="/admin/complaints">投诉 ›</a></p></section>
<section><h2>订单</h2>
<form method="get" action="/admin" class="inline" aria-label="筛选">
<label>状态<select name="status"><option value="">全部</option>${(['PENDING', 'PAID', 'CLOSED'] as const).map(
    (s) => html`<option value="${s}"${raw(status === s ? ' selected' : '')}>${ORDER_STATUS[s].label} ${s}</option>`,
  )}</select></label>
<label>下单日期（及之前）<input type="date" name="date" value="${date}"></label>
<label class="check"><input type="checkbox" name="refundDue"${raw(refundDue ? ' checked' : '')}>待退款</label>
<button type="submit">筛选</button></form>
<table><tr><th>订单</th><th>状态</th><th class="n">金额</th><th>下单时间</th><th>商品</th><th>退款</th></tr>
${d.list.orders.length ? d.list.orders.map(orderRow) : html`<tr><td colspan="6" class="muted">没有符合条件的订单</td></tr>`}
</table>${older ? html`<p><a href="/admin?${older.toString()}">更早的订单 ›</a></p>` : ''}</section>`;
}
