// What the shopper is told about money going back, from the server's order (amounts in fen).
import { formatYuan } from './money';
import type { OrderView } from './orders';

/** "退款中 ¥10.00", "部分退款 ¥30.00", "已退款 ¥90.00", or null when nothing was refunded. */
export function refundSummary(order: Pick<OrderView, 'total' | 'refundedTotal' | 'refunds'>): string | null {
  const sum = (status: string) => order.refunds.filter((r) => r.status === status).reduce((n, r) => n + r.amount, 0);
  const processing = sum('PROCESSING');
  const abnormal = sum('ABNORMAL');
  const parts: string[] = [];
  if (order.refundedTotal > 0)
    parts.push(`${order.refundedTotal >= order.total ? '已退款' : '部分退款'} ${formatYuan(order.refundedTotal)}`);
  if (processing > 0) parts.push(`退款中 ${formatYuan(processing)}`);
  if (abnormal > 0) parts.push(`退款异常 ${formatYuan(abnormal)}，请联系商家`);
  return parts.length ? parts.join('，') : null;
}
