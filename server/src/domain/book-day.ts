// The daily books' records: a day reconciled against the provider's bill, its discrepancies by kind, and
// the Beijing days it is kept by (WeChat's bills run 00:00–24:00 Beijing time).
import type { Fen } from './money';

export const DISCREPANCY_KINDS = [
  'MISSING_LOCALLY',
  'MISSING_AT_WECHAT',
  'AMOUNT_MISMATCH',
  'REFUND_STATE_MISMATCH',
  'REFUND_MISSING_LOCALLY',
  'REFUND_MISSING_AT_WECHAT',
] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];

export interface Discrepancy {
  kind: DiscrepancyKind;
  outTradeNo?: string;
  outRefundNo?: string;
  transactionId?: string;
  /** Our side: an amount in fen, or a refund's status. */
  ours?: Fen | string;
  /** The provider's side, as its bill states it. */
  wechat?: Fen | string;
  /** Settled by the shop's own repair (the payment applied, the refund's state brought up to date). */
  repaired: boolean;
  detail?: string;
}

export type BookDayStatus =
  /** Every line matched, every record found. */
  | 'BALANCED'
  /** Some discrepancy, every one repaired. */
  | 'REPAIRED'
  /** Some discrepancy waits for the operator. */
  | 'DISCREPANCIES';

export interface BookDay {
  /** `YYYY-MM-DD`, Beijing. */
  date: string;
  status: BookDayStatus;
  reconciledAt: number;
  /** The provider had no bill for the day (no trade): our side is still checked. */
  noBill: boolean;
  lines: number;
  matched: number;
  totals: {
    wechat: { payments: Fen; refunds: Fen; fees: Fen; net: Fen };
    ours: { payments: Fen; refunds: Fen };
  };
  discrepancies: Discrepancy[];
}

const DAY_FORMAT = /^(\d{4})-(\d{2})-(\d{2})$/;
const BEIJING_MS = 8 * 3600_000;

/** The Beijing day `YYYY-MM-DD` as epoch ms [start, end); null for a malformed or impossible date. */
export function beijingDay(date: string): { start: number; end: number } | null {
  const m = DAY_FORMAT.exec(date);
  if (!m) return null;
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(utc).toISOString().slice(0, 10) !== date) return null;
  return { start: utc - BEIJING_MS, end: utc - BEIJING_MS + 86_400_000 };
}

/** The Beijing date of an instant. */
export const beijingDate = (ms: number): string => new Date(ms + BEIJING_MS).toISOString().slice(0, 10);
