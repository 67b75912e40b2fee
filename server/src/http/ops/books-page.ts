// The ops page's daily books: the last 30 days (status, counts, net) with charts, and one day's totals from
// both sides and each discrepancy, linked to its order, with what to do about it.
import type { BookDay, Discrepancy, DiscrepancyKind } from '../../domain/book-day';
import { bars } from './charts';
import { html, time, yuan } from './html';

const STATUS: Record<BookDay['status'], { label: string; css: string }> = {
  BALANCED: { label: '已平账', css: 'ok' },
  REPAIRED: { label: '已自动修复', css: 'ok' },
  DISCREPANCIES: { label: '有差异待处理', css: 'warn' },
};

/** Each kind in the operator's words, with what to do next. */
export const KIND: Record<DiscrepancyKind, { label: string; todo: string }> = {
  MISSING_LOCALLY: {
    label: '微信有、我方无的付款',
    todo: '已自动查单补记的无需处理；未能补记的，在商户平台查这笔交易，确认是否为本店订单，需要时原路退款',
  },
  MISSING_AT_WECHAT: { label: '我方已支付、微信账单无此付款', todo: '核对支付时间是否跨日；仍不在次日账单中的，查单确认，勿发货' },
  AMOUNT_MISMATCH: { label: '金额不一致', todo: '以微信账单为准核对订单金额；差额需人工处理（补退款或联系顾客）' },
  REFUND_STATE_MISMATCH: { label: '退款状态不一致', todo: '已自动更新的无需处理；退款在微信失败的，到商户平台处理（如退款到账户异常）' },
  REFUND_MISSING_LOCALLY: { label: '微信有、我方无的退款', todo: '确认是否有人在商户平台直接退款，并在订单中补记说明' },
  REFUND_MISSING_AT_WECHAT: { label: '我方有、微信账单无的退款', todo: '退款可能未提交成功：到订单页查看退款状态，系统会自动重新提交' },
};

export interface BookLinks {
  /** The order an out_trade_no belongs to, for links; null when it is not ours. */
  orderIds: Map<string, string>;
}

function lastDays(now: number, days: BookDay[]) {
  const byDate = new Map(days.map((d) => [d.date, d]));
  return Array.from({ length: 30 }, (_, i) => {
    const date = new Date(now + 8 * 3600_000 - (29 - i) * 86_400_000).toISOString().slice(0, 10);
    return { date, day: byDate.get(date) ?? null };
  });
}

export function booksPage(now: number, days: BookDay[], today: string) {
  const last = lastDays(now, days);
  const rows = days.map(
    (d) => html`<tr><td><a href="/admin/books/${d.date}">${d.date}</a></td><td class="${STATUS[d.status].css}">${STATUS[d.status].label}${
      d.noBill ? html` <span class="muted">（无交易）</span>` : ''
    }</td>
<td class="n">${d.lines}</td><td class="n">${d.matched}</td><td class="n ${d.discrepancies.some((x) => !x.repaired) ? 'warn' : ''}">${d.discrepancies.length}</td>
<td class="n">${yuan(d.totals.wechat.payments)}</td><td class="n">${yuan(d.totals.wechat.refunds)}</td><td class="n">${yuan(d.totals.wechat.fees)}</td><td class="n">${yuan(d.totals.wechat.net)}</td></tr>`,
  );
  return html`<section><h2>每日对账（微信支付账单）</h2><div class="charts">
${bars(
  '每日净收入（元，近 30 天）',
  last.map((x) => ({ label: x.date.slice(5), value: x.day ? Math.round(x.day.totals.wechat.net / 100) : 0 })),
)}
${bars(
  '每日差异笔数（近 30 天）',
  last.map((x) => ({ label: x.date.slice(5), value: x.day ? x.day.discrepancies.length : 0 })),
  '#fa5151',
)}
</div>
<form method="post" action="/admin/books" class="inline spaced" aria-label="对账"><label>日期（北京时间）<input type="date" name="date" value="${today}" max="${today}" required></label>
<button type="submit">下载账单并对账</button></form>
<p class="muted">微信支付的前一日账单一般在次日 10:00 后可下载；系统每天自动对账（BOOKS_AT），这里可随时对任一日重新对账，结果覆盖该日。</p>
<table><tr><th>日期</th><th>结果</th><th class="n">账单行</th><th class="n">已核对</th><th class="n">差异</th><th class="n">收款</th><th class="n">退款</th><th class="n">手续费</th><th class="n">净额</th></tr>
${rows.length ? rows : html`<tr><td colspan="9" class="muted">近 30 天还没有对过账</td></tr>`}</table></section>`;
}

function discrepancyRow(x: Discrepancy, links: BookLinks) {
  const orderId = x.outTradeNo ? links.orderIds.get(x.outTradeNo) : undefined;
  const ref = x.outTradeNo
    ? orderId
      ? html`<a href="/admin/orders/${orderId}">${x.outTradeNo}</a>`
      : html`<code>${x.outTradeNo}</code>`
    : '';
  const money = (v: number | string | undefined) => (typeof v === 'number' ? yuan(v) : (v ?? '—'));
  return html`<tr><td class="${x.repaired ? 'ok' : 'warn'}">${KIND[x.kind].label}${x.repaired ? html`<div class="ok">已自动修复</div>` : ''}</td>
<td>${ref}${x.outRefundNo ? html`<div class="muted">退款 <code>${x.outRefundNo}</code></div>` : ''}${
    x.transactionId ? html`<div class="muted"><code>${x.transactionId}</code></div>` : ''
  }</td><td class="n">${money(x.ours)}</td><td class="n">${money(x.wechat)}</td><td>${x.repaired ? '无需处理' : KIND[x.kind].todo}</td></tr>`;
}

export function bookDayPage(d: BookDay, links: BookLinks) {
  const t = d.totals;
  const shown = d.discrepancies.slice(0, 500);
  return html`<section><h2>${d.date} · <span class="${STATUS[d.status].css}">${STATUS[d.status].label}</span></h2>
<table><tr><th></th><th class="n">收款</th><th class="n">退款</th><th class="n">手续费</th><th class="n">净额</th></tr>
<tr><th>微信支付账单</th><td class="n">${yuan(t.wechat.payments)}</td><td class="n">${yuan(t.wechat.refunds)}</td><td class="n">${yuan(t.wechat.fees)}</td><td class="n">${yuan(t.wechat.net)}</td></tr>
<tr><th>本店记录</th><td class="n">${yuan(t.ours.payments)}</td><td class="n">${yuan(t.ours.refunds)}</td><td class="n">—</td><td class="n">—</td></tr></table>
<p class="muted">账单 ${d.lines} 行，已核对 ${d.matched} 行${d.noBill ? '（微信当日无交易，无账单）' : ''}；对账时间 ${time(d.reconciledAt)}。</p>
<form method="post" action="/admin/books" class="spaced"><input type="hidden" name="date" value="${d.date}"><button type="submit" class="secondary">重新对账</button></form></section>
<section><h2>差异（${d.discrepancies.length}）</h2>
<table><tr><th>类型</th><th>订单 / 退款 / 微信单号</th><th class="n">本店</th><th class="n">微信</th><th>怎么办</th></tr>
${shown.length ? shown.map((x) => discrepancyRow(x, links)) : html`<tr><td colspan="5" class="ok">没有差异</td></tr>`}</table>
${d.discrepancies.length > shown.length ? html`<p class="muted">只显示前 ${shown.length} 条；全部见 GET /api/admin/books/${d.date}</p>` : ''}</section>`;
}
