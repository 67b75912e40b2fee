// Complaints, from WeChat's word to our answer. A notification (PAY) or a message push (MINIPROGRAM) only says
// "look at complaint X": the complaint is fetched and stored forward-only, tied to its order, with its deadline.
// Answers go to WeChat first, then the record is read back; a refund approved on a complaint is our own refund
// through the usual flow, keyed by the complaint, so a double submit refunds once and money and complaint agree.
// The reconciler re-reads open complaints, so a lost notification is caught.
import crypto from 'node:crypto';
import { type Complaint, type ComplaintState, deadlineOf, laterState, type RefundDecision } from './complaint';
import type { PaymentDeps } from './deps';
import { AppError, invalid, notFound } from './errors';
import type { ComplaintProvider, ComplaintRef } from './ports/complaint-provider';
import { ComplaintProviderError } from './ports/complaint-provider';
import type { IncomingNotification, NotificationRefusal } from './ports/payment-provider';
import type { ComplaintStore } from './ports/complaints';
import type { ReplayStore } from './ports/replays';
import type { PaymentStores } from './deps';
import type { RefusalLog } from './refusals';
import type { SecretSealer } from './user';
import { requestRefund } from './refunds';

export interface ComplaintDeps extends PaymentDeps {
  store: PaymentStores & ComplaintStore & ReplayStore;
  complaints: ComplaintProvider;
  /** Seals the shopper's phone before it is stored. */
  sealer: SecretSealer;
  refusals: RefusalLog;
}

/** How long a complaint notification's id is remembered (WeChat retries for up to a week). */
const NOTIFICATION_MEMORY_MS = 8 * 24 * 3600_000;
/** The same reply text again within this window is the same reply (a double submit). */
const REPLY_REPEAT_MS = 10 * 60_000;

const idOf = (ref: ComplaintRef) => `${ref.source}:${ref.id}`;
export function refOf(id: string): ComplaintRef {
  const [source, ...rest] = id.split(':');
  if ((source !== 'PAY' && source !== 'MINIPROGRAM') || rest.length === 0) throw notFound('complaint');
  return { source, id: rest.join(':') };
}

/** The provider's failure in the API's words: refused (409, with WeChat's reason) or unreachable (502). */
function providerFailure(err: unknown, what: string): unknown {
  if (!(err instanceof ComplaintProviderError)) return err;
  return err.rejected
    ? new AppError('COMPLAINT_REFUSED', `WeChat refused to ${what}: ${err.message}`, { providerCode: err.providerCode })
    : new AppError('WECHATPAY_UNREACHABLE', `WeChat could not be reached to ${what}; nothing was changed, try again`, {
        providerCode: err.providerCode,
      });
}

/** Reads the complaint from WeChat and stores it, forward only, tied to its order; null when WeChat does not know it. */
export async function syncComplaint(deps: ComplaintDeps, ref: ComplaintRef, decision?: RefundDecision): Promise<Complaint | null> {
  const p = await deps.complaints.fetch(ref);
  if (!p) return null;
  const id = idOf(ref);
  for (let tries = 0; tries < 3; tries += 1) {
    const current = await deps.store.findComplaint(id);
    const attempt = p.outTradeNo ? await deps.store.findAttempt(p.outTradeNo) : null;
    const state: ComplaintState = current ? laterState(current.state, p.state) : p.state;
    const next: Complaint = {
      id,
      source: ref.source,
      providerId: ref.id,
      orderId: attempt?.orderId ?? current?.orderId ?? null,
      outTradeNo: p.outTradeNo,
      transactionId: p.transactionId,
      state,
      deadline: deadlineOf({ source: ref.source, state, createdAt: p.createdAt }, p.deadline),
      problem: p.problem,
      refundRequested: p.refundRequested,
      refundDecision: decision ?? current?.refundDecision ?? null,
      payerPhoneSealed: p.payerPhone ? deps.sealer.seal(p.payerPhone) : (current?.payerPhoneSealed ?? null),
      events: p.events,
      createdAt: p.createdAt,
      updatedAt: deps.now(),
      version: (current?.version ?? 0) + 1,
    };
    const unchanged =
      current &&
      current.state === next.state &&
      current.deadline === next.deadline &&
      current.orderId === next.orderId &&
      current.events.length === next.events.length &&
      JSON.stringify(current.refundDecision) === JSON.stringify(next.refundDecision);
    if (unchanged) return current;
    if (await deps.store.saveComplaint(next, current?.version ?? null)) {
      if (!current) deps.logger.warn({ complaintId: id, orderId: next.orderId, deadline: next.deadline }, 'complaint received');
      return next;
    }
  }
  throw new AppError('STORE_UNAVAILABLE', 'the complaint kept changing while it was saved; try again');
}

export type ComplaintNotificationAnswer =
  | { kind: 'REFUSED'; refusal: NotificationRefusal }
  | { kind: 'RECORDED'; complaintId: string; duplicate: boolean };

/** A PAY complaint notification: verified, de-duplicated by its id, the complaint fetched and stored. */
export async function receiveComplaintNotification(
  deps: ComplaintDeps,
  incoming: IncomingNotification,
): Promise<ComplaintNotificationAnswer> {
  const parsed = deps.complaints.parseNotification(incoming);
  if (!parsed.ok) {
    await deps.refusals.note({
      receivedAt: deps.now(),
      reason: parsed.refusal.reason,
      serial: incoming.headers['wechatpay-serial'] ?? null,
      requestId: incoming.headers['request-id'] ?? null,
      bodySha256: crypto.createHash('sha256').update(incoming.body).digest('hex'),
    });
    return { kind: 'REFUSED', refusal: parsed.refusal };
  }
  const key = `complaint-notification:${parsed.notificationId}`;
  if (!(await deps.store.claimOnce(key, deps.now() + NOTIFICATION_MEMORY_MS, deps.now())))
    return { kind: 'RECORDED', complaintId: idOf(parsed.ref), duplicate: true };
  try {
    await syncComplaint(deps, parsed.ref);
  } catch (err) {
    await deps.store.releaseClaim(key).catch(() => undefined); // not stored: WeChat's retry must go through
    throw err;
  }
  return { kind: 'RECORDED', complaintId: idOf(parsed.ref), duplicate: false };
}

/** A MINIPROGRAM complaint named by a message push. */
export const receiveTradeComplaintPush = (deps: ComplaintDeps, providerId: string) =>
  syncComplaint(deps, { source: 'MINIPROGRAM', id: providerId });

async function open(deps: ComplaintDeps, id: string): Promise<Complaint> {
  const c = await deps.store.findComplaint(id);
  if (!c) throw notFound('complaint');
  return c;
}

/** Replies to the shopper. The same text again within ten minutes is the same reply (answered, not sent twice). */
export async function replyToComplaint(deps: ComplaintDeps, id: string, text: string): Promise<Complaint> {
  const c = await open(deps, id);
  const body = text.trim();
  if (!body) throw invalid('text', 'required');
  if ([...body].length > 200) throw invalid('text', 'at most 200 characters (WeChat Pay cuts replies there)');
  if (c.state === 'RESOLVED') throw new AppError('COMPLAINT_RESOLVED', 'the complaint is resolved: WeChat takes no more replies to it');
  const repeat = c.events.some((e) => e.actor === 'MERCHANT' && e.text === body && deps.now() - e.at < REPLY_REPEAT_MS);
  if (repeat) return c;
  try {
    await deps.complaints.reply(refOf(id), body);
  } catch (err) {
    throw providerFailure(err, 'take the reply');
  }
  return (await syncComplaint(deps, refOf(id))) ?? c;
}

/** Approves the shopper's refund (our own refund of `amount`, or what they asked, or the order's total) or rejects it. */
export async function decideComplaintRefund(
  deps: ComplaintDeps,
  id: string,
  d: { approve: true; amount?: number } | { approve: false; reason: string },
): Promise<Complaint> {
  // One decision at a time per complaint (a double submit): the second waits for the first and answers the same.
  const key = `complaint-decision:${id}`;
  if (!(await deps.store.claimOnce(key, deps.now() + 60_000, deps.now()))) {
    for (let i = 0; i < 100; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const now = await open(deps, id);
      if (now.refundDecision && (!now.refundDecision.approve || now.refundDecision.outRefundNo)) return decided(now, d);
    }
    throw new AppError('COMPLAINT_DECIDED', 'another decision on this complaint is under way; look at it again shortly');
  }
  try {
    return await decide(deps, id, d);
  } finally {
    await deps.store.releaseClaim(key).catch(() => undefined);
  }
}

/** A decision already taken: the same one again is answered as the first; the other one is refused. */
function decided(c: Complaint, d: { approve: boolean }): Complaint {
  if (c.refundDecision && c.refundDecision.approve !== d.approve)
    throw new AppError(
      'COMPLAINT_DECIDED',
      `the refund was already ${c.refundDecision.approve ? 'approved' : 'rejected'}; it cannot be changed`,
    );
  return c;
}

async function decide(
  deps: ComplaintDeps,
  id: string,
  d: { approve: true; amount?: number } | { approve: false; reason: string },
): Promise<Complaint> {
  const c = await open(deps, id);
  const previous = c.refundDecision;
  if (previous && previous.approve !== d.approve)
    throw new AppError('COMPLAINT_DECIDED', `the refund was already ${previous.approve ? 'approved' : 'rejected'}; it cannot be changed`);
  if (previous && (!previous.approve || previous.outRefundNo)) return c; // the same decision again: answered as the first
  if (!previous && c.state === 'RESOLVED')
    throw new AppError('COMPLAINT_RESOLVED', 'the complaint is resolved: no refund decision is taken any more');
  if (!d.approve) {
    if (!d.reason.trim()) throw invalid('reason', 'required to reject a refund');
    try {
      await deps.complaints.decideRefund(refOf(id), { approve: false, reason: d.reason.trim() });
    } catch (err) {
      throw providerFailure(err, 'take the rejection');
    }
    const decision: RefundDecision = { approve: false, amount: null, reason: d.reason.trim(), outRefundNo: null, at: deps.now() };
    return (await syncComplaint(deps, refOf(id), decision)) ?? c;
  }
  if (!c.orderId) throw new AppError('ORDER_NOT_PAID', 'the complaint names no order of this shop: refund it in the merchant platform');
  const order = await deps.store.findOrder(c.orderId);
  const amount = d.amount ?? c.refundRequested ?? order?.total ?? 0;
  if (!previous) {
    try {
      await deps.complaints.decideRefund(refOf(id), { approve: true });
    } catch (err) {
      throw providerFailure(err, 'take the approval');
    }
  }
  // Our refund, keyed by the complaint: a double submit, or a retry after a failure, is the same refund.
  const { refund } = await requestRefund(deps, c.orderId, { amount, reason: '投诉退款' }, `complaint:${c.id}`.slice(0, 64));
  const decision: RefundDecision = { approve: true, amount, reason: null, outRefundNo: refund.outRefundNo, at: deps.now() };
  return (await syncComplaint(deps, refOf(id), decision)) ?? c;
}

/** Marks the complaint handled at WeChat (the shopper is then asked to rate it). */
export async function completeComplaint(deps: ComplaintDeps, id: string): Promise<Complaint> {
  const c = await open(deps, id);
  if (c.state === 'RESOLVED') return c;
  try {
    await deps.complaints.complete(refOf(id));
  } catch (err) {
    throw providerFailure(err, 'mark the complaint complete');
  }
  return (await syncComplaint(deps, refOf(id))) ?? c;
}

export async function findComplaint(store: ComplaintStore, id: string): Promise<Complaint> {
  const c = await store.findComplaint(id);
  if (!c) throw notFound('complaint');
  return c;
}

export const listComplaints = (store: ComplaintStore, state?: ComplaintState) => store.listComplaints({ state, limit: 200 });

export interface ComplaintReconcileReport {
  examined: number;
  errors: number;
}

/** Re-reads the complaints WeChat Pay lists for the last 30 days that we do not hold as resolved, and every open one of
 *  ours: a lost notification is caught, and a resolved complaint costs no more calls. */
export async function reconcileComplaints(deps: ComplaintDeps): Promise<ComplaintReconcileReport> {
  const report = { examined: 0, errors: 0 };
  const refs = new Map<string, ComplaintRef>();
  try {
    // From WeChat Pay's list, only what we do not hold as resolved: a resolved complaint is final here.
    for (const ref of await deps.complaints.listRecent(deps.now() - 29 * 86_400_000, deps.now()))
      if ((await deps.store.findComplaint(idOf(ref)))?.state !== 'RESOLVED') refs.set(idOf(ref), ref);
  } catch (err) {
    report.errors += 1;
    deps.logger.warn({ err: (err as Error).message }, 'complaint list could not be read; open complaints are still re-read');
  }
  for (const state of ['NEW', 'IN_PROGRESS'] as const)
    for (const c of await deps.store.listComplaints({ state, limit: 500 })) refs.set(c.id, refOf(c.id));
  for (const ref of refs.values()) {
    report.examined += 1;
    try {
      await syncComplaint(deps, ref);
    } catch (err) {
      report.errors += 1;
      deps.logger.warn({ complaintId: idOf(ref), err: (err as Error).message }, 'complaint could not be re-read');
    }
  }
  return report;
}
