// One order for the operator: its lines and payment, the shipment (with the ship form), refunds (with the
// refund form), payment attempts, payments received and notifications.
import crypto from 'node:crypto';
import type { AdminOrder } from '../../domain/admin';
import type { LogisticsType, Shipment } from '../../domain/shipment';
import { html, raw, time, yuan, type Raw } from './html';
import { LOGISTICS, ORDER_STATUS, SHIP_STATUS, UPLOAD } from './words';

function shipForm(orderId: string, s: Shipment | null, carriers: { id: string; name: string }[], label: string): Raw {
  const types = (Object.keys(LOGISTICS) as LogisticsType[]).map(
    (k) => html`<option value="${k}"${raw(s?.logisticsType === k ? ' selected' : '')}>${LOGISTICS[k]}</option>`,
  );
  const options = carriers.map(
    (c) => html`<option value="${c.id}"${raw(s?.packages[0]?.carrier === c.id ? ' selected' : '')}>${c.name} ${c.id}</option>`,
  );
  return html`<form method="post" action="/admin/orders/${orderId}/ship" class="inline" aria-label="发货">
<label>配送方式<select name="logisticsType">${types}</select></label>
<label>快递公司<select name="carrier"><option value="">（快递必选）</option>${options}</select></label>
<label>运单号<input name="trackingNo" maxlength="128" value="${s?.packages[0]?.trackingNo ?? ''}"></label><button type="submit">${label}</button></form>`;
}

function shipmentSection(orderId: string, paid: boolean, s: Shipment | null, carriers: { id: string; name: string }[]): Raw {
  if (!paid && !s) return html``;
  if (!s) return html`<section><h2>发货</h2><p class="pending">待发货</p>${shipForm(orderId, null, carriers, '发货')}</section>`;
  const uploadCss = s.upload === 'ACCEPTED' ? 'ok' : s.upload === 'REFUSED' ? 'warn' : 'pending';
  const refusal = s.refusal ? html`<div class="warn">${s.refusal.code}：${s.refusal.message}</div><div>怎么办：${s.refusal.fix}</div>` : '';
  const changeable = s.status === 'SHIPPED' && !(s.upload === 'ACCEPTED' && s.shipCount >= 2);
  return html`<section><h2>发货 · <span class="${s.status === 'SHIPPED' ? 'pending' : 'ok'}">${SHIP_STATUS[s.status]}</span></h2>
<table><tr><th>配送</th><td>${LOGISTICS[s.logisticsType]}${s.packages.map((p) => html` · ${p.carrierName ?? p.carrier} <code>${p.trackingNo}</code>`)}</td></tr>
<tr><th>上传</th><td class="${uploadCss}">${UPLOAD[s.upload]}（第 ${s.uploadAttempts} 次）${refusal}</td></tr>
<tr><th>微信订单状态</th><td>${s.wechatState ?? '—'}</td></tr><tr><th>商品描述</th><td>${s.itemDesc}</td></tr>
<tr><th>修改次数</th><td>${s.shipCount === 2 ? '已修改一次（微信只允许修改一次）' : '可修改一次'}</td></tr></table>
${changeable ? shipForm(orderId, s, carriers, '修改发货信息') : ''}</section>`;
}

function refundsSection(d: AdminOrder): Raw {
  const refundable = d.payments.reduce((n, p) => n + p.amount - p.refundReserved, 0);
  const form =
    refundable > 0
      ? html`<form method="post" action="/admin/orders/${d.order.id}/refund" class="inline" aria-label="退款">
<label>金额（元，最多 ${yuan(refundable)}）<input name="amount" inputmode="decimal" required pattern="\\d+(\\.\\d{1,2})?" placeholder="例如 10.00"></label>
<label>原因（可选）<input name="reason" maxlength="80"></label><input type="hidden" name="key" value="${crypto.randomUUID()}"><button type="submit">退款</button></form>`
      : html`<p class="muted">没有可退的款项</p>`;
  const css = (status: string) => (status === 'SUCCESS' ? 'ok' : status === 'PROCESSING' ? 'pending' : 'warn');
  const rows = d.refunds.length
    ? d.refunds.map(
        (
          f,
        ) => html`<tr><td><code>${f.outRefundNo}</code></td><td class="n">${yuan(f.amount)}</td><td class="${css(f.status)}">${f.status}</td>
<td>${time(f.createdAt)}</td><td>${time(f.settledAt)}</td><td>${f.failure ?? f.reason ?? ''}</td></tr>`,
      )
    : html`<tr><td colspan="6" class="muted">没有退款</td></tr>`;
  return html`<section><h2>退款</h2>${form}
<table><tr><th>退款单号</th><th class="n">金额</th><th>状态</th><th>发起</th><th>完成</th><th>说明</th></tr>${rows}</table></section>`;
}

function historySections(d: AdminOrder): Raw {
  const attempts = d.attempts.map(
    (a) => html`<tr><td><code>${a.outTradeNo}</code></td><td><code>${a.prepayId ?? '—'}</code></td><td>${time(a.createdAt)}</td></tr>`,
  );
  const payments = d.payments.length
    ? d.payments.map(
        (
          p,
        ) => html`<tr><td><code>${p.transactionId}</code></td><td class="n">${yuan(p.amount)}</td><td>${p.kind}</td><td>${time(p.paidAt)}</td>
<td class="n">${yuan(p.refundReserved)}</td></tr>`,
      )
    : html`<tr><td colspan="5" class="muted">没有付款</td></tr>`;
  const notifications = d.notifications.length
    ? d.notifications.map(
        (
          n,
        ) => html`<tr><td class="${n.outcome === 'APPLIED' || n.outcome === 'ALREADY_PAID' ? 'ok' : 'warn'}">${n.outcome}</td><td>${n.eventType}</td>
<td><code>${n.requestId ?? '—'}</code></td><td>${time(n.firstReceivedAt)}<div class="muted">${time(n.lastReceivedAt)}</div></td>
<td class="n">${n.deliveries}</td><td>${n.detail ?? ''}</td></tr>`,
      )
    : html`<tr><td colspan="6" class="muted">没有收到通知</td></tr>`;
  return html`<section><h2>支付尝试</h2><table><tr><th>out_trade_no</th><th>prepay_id</th><th>创建</th></tr>${attempts}</table></section>
<section><h2>收到的付款</h2><table><tr><th>transaction_id</th><th class="n">金额</th><th>类型</th><th>时间</th><th class="n">已预留退款</th></tr>${payments}</table></section>
<section><h2>通知</h2><table><tr><th>结果</th><th>事件</th><th>Request-ID</th><th>首次 / 最近</th><th class="n">次数</th><th>说明</th></tr>${notifications}</table></section>`;
}

export function orderPage(d: AdminOrder, carriers: { id: string; name: string }[]): Raw {
  const o = d.order;
  const paid = html`${time(o.paidAt)} ${o.transactionId ? html`<code>${o.transactionId}</code>` : ''}`;
  return html`<section><h2>${o.description} · <span class="${ORDER_STATUS[o.status].css}">${ORDER_STATUS[o.status].label}</span> · ${yuan(o.total)}</h2>
<table><tr><th>订单号</th><td><code>${o.id}</code> / <code>${o.outTradeNo}</code></td></tr><tr><th>用户</th><td><code>${o.userId}</code></td></tr>
<tr><th>下单</th><td>${time(o.createdAt)}</td></tr><tr><th>支付截止</th><td>${time(o.payDeadline)}</td></tr><tr><th>支付</th><td>${paid}</td></tr>
<tr><th>已退款</th><td>${yuan(o.refundedTotal)}${o.refundDue ? html` · <span class="warn">有款项待退回</span>` : ''}</td></tr>
${o.reviewReason ? html`<tr><th>需复核</th><td class="warn">${o.reviewReason}</td></tr>` : ''}
<tr><th>商品</th><td>${o.lines.map((l) => html`<div>${l.name} × ${l.quantity} = ${yuan(l.lineTotal)}</div>`)}</td></tr></table></section>
${shipmentSection(o.id, o.status === 'PAID', d.shipment, carriers)}
${refundsSection(d)}
${historySections(d)}`;
}
