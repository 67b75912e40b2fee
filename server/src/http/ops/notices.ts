// The banners the ops page shows after an action. The redirect names one by code and carries whole
// numbers only; the words are fixed here, so no link can put text of its own on the operator's page.
import { banner, yuan } from './html';

type Numbers = Record<string, number>;

const NOTICES = {
  reconciled: (n: Numbers) =>
    `对账完成：检查 ${n.examined ?? 0} 笔，确认支付 ${n.paid ?? 0} 笔，关闭 ${n.closed ?? 0} 笔，标记复核 ${n.flagged ?? 0} 笔，退款确认 ${n.refunds ?? 0} 笔${
      n.errors ? `，出错 ${n.errors} 笔（见日志）` : ''
    }`,
  shipped: () => '已发货，微信已收到发货信息',
  'ship-pending': () => '已记录；微信暂时未能接收，系统会自动重试上传',
  'ship-refused': (n: Numbers) => `已记录，但微信拒绝了发货信息（${n.code ?? ''}）：见下方“怎么办”`,
  'refund-done': (n: Numbers) => `退款 ${yuan(n.amount ?? 0)} 已完成`,
  'refund-submitted': (n: Numbers) => `退款 ${yuan(n.amount ?? 0)} 已提交，等待微信支付确认`,
  'refund-replayed': (n: Numbers) => `已提交过：退款 ${yuan(n.amount ?? 0)}`,
  'complaint-replied': () => '已回复顾客（微信已收到）',
  'complaint-approved': () => '已同意退款：退款已发起，到账后投诉自动完结',
  'complaint-rejected': () => '已拒绝退款，投诉已完结',
  'complaint-completed': () => '已标记处理完成',
  'books-reconciled': (n: Numbers) =>
    `对账完成：账单 ${n.lines ?? 0} 行，差异 ${n.discrepancies ?? 0} 笔${n.repaired ? `（其中 ${n.repaired} 笔已自动修复）` : ''}`,
} satisfies Record<string, (n: Numbers) => string>;

export type NoticeCode = keyof typeof NOTICES;

/** `path` with the notice's code and numbers in its query. */
export function withNotice(path: string, code: NoticeCode, numbers: Numbers = {}): string {
  const q = new URLSearchParams({ done: code });
  for (const [k, v] of Object.entries(numbers)) if (Number.isSafeInteger(v) && v >= 0) q.set(k, String(v));
  return `${path}?${q}`;
}

/** The banner a query names; nothing for an unknown code. Only whole numbers are read from the query. */
export function noticeOf(query: Record<string, unknown>) {
  const code = typeof query.done === 'string' && Object.hasOwn(NOTICES, query.done) ? (query.done as NoticeCode) : null;
  if (!code) return '';
  const numbers: Numbers = {};
  for (const [k, v] of Object.entries(query)) if (typeof v === 'string' && /^\d{1,12}$/.test(v)) numbers[k] = Number(v);
  return banner(NOTICES[code](numbers));
}
