// A shopper's complaint to WeChat about an order: WeChat Pay's consumer complaints (PAY, 消费者投诉2.0) and the
// mini program's trade complaints (MINIPROGRAM, 交易类投诉). State moves forward only:
//
//   NEW ──▶ IN_PROGRESS ──▶ RESOLVED        (a refund decision on the way)
//
// Each open complaint has a deadline from WeChat's rules: PAY — a first reply within 24 h, resolved within 72 h
// (WeChat Pay help centre); MINIPROGRAM — the push's own `expire_time` (48 h for 201 and 206 since 2024-03-25).
import type { Fen } from './money';

export type ComplaintSource = 'PAY' | 'MINIPROGRAM';
export type ComplaintState = 'NEW' | 'IN_PROGRESS' | 'RESOLVED';

const RANK: Record<ComplaintState, number> = { NEW: 0, IN_PROGRESS: 1, RESOLVED: 2 };
/** Forward only: a report of an earlier state never moves a complaint back. */
export const laterState = (a: ComplaintState, b: ComplaintState): ComplaintState => (RANK[b] > RANK[a] ? b : a);

export interface ComplaintEvent {
  at: number;
  /** Who: the shopper, the platform, the merchant (us), or the system. */
  actor: 'SHOPPER' | 'PLATFORM' | 'MERCHANT' | 'SYSTEM';
  /** The provider's word for it (e.g. USER_CREATE_COMPLAINT, MERCHANT_RESPONSE). */
  kind: string;
  text: string;
}

export interface RefundDecision {
  approve: boolean;
  amount: Fen | null;
  reason: string | null;
  /** Our refund started for an approval. */
  outRefundNo: string | null;
  at: number;
}

export interface Complaint {
  /** `${source}:${provider id}`: the two systems number complaints independently. */
  id: string;
  source: ComplaintSource;
  providerId: string;
  /** The order it is about (null when the out_trade_no is not ours). */
  orderId: string | null;
  outTradeNo: string | null;
  transactionId: string | null;
  state: ComplaintState;
  /** When the merchant must have acted by (the current step's deadline); null once resolved. */
  deadline: number | null;
  problem: string;
  /** What the shopper asked back, in fen; null when no refund was asked for. */
  refundRequested: Fen | null;
  refundDecision: RefundDecision | null;
  /** The shopper's phone, sealed at rest (never shown in a log). */
  payerPhoneSealed: string | null;
  events: ComplaintEvent[];
  createdAt: number;
  updatedAt: number;
  version: number;
}

export const HOUR = 3600_000;
/** PAY: first reply within 24 h; resolved within 72 h of the complaint. */
export const PAY_FIRST_REPLY_MS = 24 * HOUR;
export const PAY_RESOLVE_MS = 72 * HOUR;
/** MINIPROGRAM: 48 h per step (201 awaiting the merchant, 206 voucher due) when the push names none. */
export const MINIPROGRAM_STEP_MS = 48 * HOUR;

/** The deadline of a complaint in its state: null once resolved. */
export function deadlineOf(c: Pick<Complaint, 'source' | 'state' | 'createdAt'>, providerDeadline: number | null): number | null {
  if (c.state === 'RESOLVED') return null;
  if (c.source === 'MINIPROGRAM') return providerDeadline ?? c.createdAt + MINIPROGRAM_STEP_MS;
  return c.state === 'NEW' ? c.createdAt + PAY_FIRST_REPLY_MS : c.createdAt + PAY_RESOLVE_MS;
}

/** Open complaints first, the least time left first; then resolved ones, newest first. */
export function byUrgency(a: Complaint, b: Complaint): number {
  if ((a.deadline === null) !== (b.deadline === null)) return a.deadline === null ? 1 : -1;
  if (a.deadline !== null && b.deadline !== null && a.deadline !== b.deadline) return a.deadline - b.deadline;
  return b.createdAt - a.createdAt;
}

/** What the shopper and the operator see of a complaint. */
export interface ComplaintView {
  id: string;
  source: ComplaintSource;
  orderId: string | null;
  state: ComplaintState;
  deadline: string | null;
  overdue: boolean;
  problem: string;
  refundRequested?: Fen;
  refundDecision: { approve: boolean; amount: Fen | null; reason: string | null; outRefundNo: string | null } | null;
  events: { at: string; actor: ComplaintEvent['actor']; kind: string; text: string }[];
}

export function toComplaintView(c: Complaint, now: number): ComplaintView {
  return {
    id: c.id,
    source: c.source,
    orderId: c.orderId,
    state: c.state,
    deadline: c.deadline === null ? null : new Date(c.deadline).toISOString(),
    overdue: c.deadline !== null && c.deadline < now,
    problem: c.problem,
    ...(c.refundRequested !== null ? { refundRequested: c.refundRequested } : {}),
    refundDecision: c.refundDecision
      ? {
          approve: c.refundDecision.approve,
          amount: c.refundDecision.amount,
          reason: c.refundDecision.reason,
          outRefundNo: c.refundDecision.outRefundNo,
        }
      : null,
    events: c.events.map((e) => ({ at: new Date(e.at).toISOString(), actor: e.actor, kind: e.kind, text: e.text })),
  };
}
