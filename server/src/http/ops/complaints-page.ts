// The ops page's complaints: the inbox (open first, the least time left first, overdue in red) and one complaint
// with its history and the three answers — reply, the refund decision, complete.
import type { Complaint, ComplaintEvent } from '../../domain/complaint';
import type { SendCredit } from '../../domain/subscription';
import { html, time, yuan } from './html';

const SOURCE = { PAY: '微信支付投诉', MINIPROGRAM: '小程序交易投诉' } as const;
const STATE = {
  NEW: { label: '待处理', css: 'warn' },
  IN_PROGRESS: { label: '处理中', css: 'pending' },
  RESOLVED: { label: '已完结', css: 'ok' },
} as const;
const ACTOR: Record<ComplaintEvent['actor'], string> = { SHOPPER: '顾客', PLATFORM: '平台', MERCHANT: '本店', SYSTEM: '系统' };

/** Time left, as the operator reads it: "剩 5 小时 12 分", or "已超时 3 小时". */
export function timeLeft(deadline: number | null, now: number): { text: string; overdue: boolean } {
  if (deadline === null) return { text: '—', overdue: false };
  const ms = deadline - now;
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3600_000);
  const m = Math.floor((abs % 3600_000) / 60_000);
  const span = h ? `${h} 小时 ${m} 分` : `${m} 分`;
  return ms < 0 ? { text: `已超时 ${span}`, overdue: true } : { text: `剩 ${span}`, overdue: false };
}

export function complaintsInbox(list: Complaint[], now: number) {
  const rows = list.map((c) => {
    const left = timeLeft(c.deadline, now);
    return html`<tr><td><a href="/admin/complaints/${encodeURIComponent(c.id)}">${SOURCE[c.source]}</a><div class="muted"><code>${c.providerId}</code></div></td>
<td>${c.orderId ? html`<a href="/admin/orders/${c.orderId}">${c.outTradeNo ?? c.orderId}</a>` : html`<span class="muted">非本店订单</span>`}</td>
<td class="${STATE[c.state].css}">${STATE[c.state].label}</td><td class="${left.overdue ? 'warn' : ''}">${left.text}${c.deadline ? html`<div class="muted">${time(c.deadline)}</div>` : ''}</td>
<td>${c.problem}</td><td class="n">${c.refundRequested !== null ? yuan(c.refundRequested) : ''}</td></tr>`;
  });
  return html`<section><h2>投诉（${list.filter((c) => c.state !== 'RESOLVED').length} 件待处理）</h2>
<p class="muted">微信支付投诉须在 24 小时内首次回复、72 小时内处理完成；小程序交易投诉每一步 48 小时（以微信给出的截止时间为准）。超时会被平台介入并可能由平台先行退款。</p>
<table><tr><th>投诉</th><th>订单</th><th>状态</th><th>截止</th><th>诉求</th><th class="n">申请退款</th></tr>
${rows.length ? rows : html`<tr><td colspan="6" class="muted">没有投诉</td></tr>`}</table></section>`;
}

export function complaintPage(c: Complaint, now: number) {
  const left = timeLeft(c.deadline, now);
  const open = c.state !== 'RESOLVED';
  const d = c.refundDecision;
  const decision = d
    ? html`<p class="${d.approve ? 'ok' : 'muted'}">${d.approve ? `已同意退款 ${yuan(d.amount ?? 0)}` : `已拒绝退款：${d.reason ?? ''}`}${
        d.outRefundNo ? html` · 退款单 <code>${d.outRefundNo}</code>` : ''
      }</p>`
    : '';
  const history = c.events.map(
    (e) => html`<tr><td>${time(e.at)}</td><td>${ACTOR[e.actor]}</td><td><code>${e.kind}</code></td><td>${e.text}</td></tr>`,
  );
  const forms = open
    ? html`<form method="post" action="/admin/complaints/${encodeURIComponent(c.id)}/reply" aria-label="回复" class="spaced">
<label>回复顾客（最多 200 字）<textarea name="text" maxlength="200" rows="3" required></textarea></label><button type="submit">发送回复</button></form>
${
  d
    ? ''
    : html`<form method="post" action="/admin/complaints/${encodeURIComponent(c.id)}/refund" aria-label="同意退款" class="inline spaced">
<label>退款金额（元）<input name="amount" inputmode="decimal" value="${c.refundRequested !== null ? (c.refundRequested / 100).toFixed(2) : ''}" placeholder="默认订单金额"></label>
<button type="submit" name="approve" value="yes">同意退款</button></form>
<form method="post" action="/admin/complaints/${encodeURIComponent(c.id)}/refund" aria-label="拒绝退款" class="inline spaced">
<label>拒绝理由<input name="reason" maxlength="200"></label><button type="submit" name="approve" value="no" class="secondary">拒绝退款</button></form>`
}
<form method="post" action="/admin/complaints/${encodeURIComponent(c.id)}/complete" class="spaced"><button type="submit" class="secondary">标记处理完成</button></form>`
    : '';
  return html`<section><h2>${SOURCE[c.source]} · <span class="${STATE[c.state].css}">${STATE[c.state].label}</span></h2>
<table><tr><th>投诉单号</th><td><code>${c.providerId}</code></td></tr>
<tr><th>订单</th><td>${c.orderId ? html`<a href="/admin/orders/${c.orderId}">${c.outTradeNo}</a>` : html`<code>${c.outTradeNo ?? '—'}</code>（非本店订单）`}</td></tr>
<tr><th>截止</th><td class="${left.overdue ? 'warn' : ''}">${left.text}${c.deadline ? ` · ${time(c.deadline)}` : ''}</td></tr>
<tr><th>诉求</th><td>${c.problem}${c.refundRequested !== null ? html` · 申请退款 ${yuan(c.refundRequested)}` : ''}</td></tr>
<tr><th>投诉时间</th><td>${time(c.createdAt)}</td></tr></table>${decision}${forms}</section>
<section><h2>协商记录</h2><table><tr><th>时间</th><th>谁</th><th>类型</th><th>内容</th></tr>${
    history.length ? history : html`<tr><td colspan="4" class="muted">没有记录</td></tr>`
  }</table></section>`;
}

/** The order page's complaints about this order. */
export function orderComplaints(list: Complaint[], now: number) {
  if (list.length === 0) return html``;
  return html`<section><h2>投诉</h2><table><tr><th>投诉</th><th>状态</th><th>截止</th></tr>${list.map((c) => {
    const left = timeLeft(c.deadline, now);
    return html`<tr><td><a href="/admin/complaints/${encodeURIComponent(c.id)}">${SOURCE[c.source]} ${c.providerId}</a></td><td class="${STATE[c.state].css}">${STATE[c.state].label}</td><td class="${left.overdue ? 'warn' : ''}">${left.text}</td></tr>`;
  })}</table></section>`;
}

const MESSAGE = { paid: '支付成功', shipped: '已发货', refunded: '退款成功' } as const;
const CREDIT = {
  AVAILABLE: { label: '待发送', css: 'pending' },
  SENDING: { label: '发送中', css: 'pending' },
  SENT: { label: '已发送', css: 'ok' },
  GIVEN_UP: { label: '未发送', css: 'warn' },
} as const;

/** The subscribe messages the shopper accepted for this order, and what became of each. */
export function orderMessages(credits: SendCredit[]) {
  if (credits.length === 0) return html``;
  return html`<section><h2>订阅消息</h2><table><tr><th>消息</th><th>状态</th><th>发送时间</th><th>说明</th></tr>${credits.map(
    (c) =>
      html`<tr><td>${MESSAGE[c.kind]}</td><td class="${CREDIT[c.state].css}">${CREDIT[c.state].label}</td><td>${c.sentAt ? time(c.sentAt) : '—'}</td><td>${c.lastError ?? ''}</td></tr>`,
  )}</table></section>`;
}
