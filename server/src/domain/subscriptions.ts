// Telling the shopper: what they accepted after the pay tap becomes one send credit per message kind for that
// order; a sender takes each credit once its event has been committed (paid, shipped, refunded), claims it by a
// conditional write (so two instances, or two rounds, never send it twice), sends it, and records the outcome.
// A transient failure puts it back for the next round; a refusal (43101), a bad openid or bad data is final.
import { notFound } from './errors';
import type { Logger } from './ports/logger';
import { MessageSendError, type MessageSender, type MessageValues } from './ports/message-sender';
import type { OrderStore, PaymentStore, ShipmentStore, UserStore } from './ports/store';
import type { SubscriptionStore } from './ports/subscriptions';
import type { MessageKind, SendCredit } from './subscription';
import type { User } from './user';

export interface SubscriptionDeps {
  store: OrderStore & PaymentStore & ShipmentStore & SubscriptionStore & UserStore;
  messages: MessageSender;
  now: () => number;
  logger: Logger;
  /** Counts each send's outcome (metrics). */
  onOutcome?: (kind: MessageKind, outcome: 'sent' | 'given-up' | 'retry') => void;
}

/** How long a sender holds a credit while it sends (longer than WeChat's answer takes). */
const CLAIM_MS = 30_000;
/** Transient failures before a credit is given up. */
const MAX_ATTEMPTS = 8;
/** The page the message opens: the order's own page. */
export const pageOf = (orderId: string) => `pages/result/index?id=${orderId}&outcome=ok`;

/** The shopper accepted these kinds for their order (after the pay tap): one credit each, the first acceptance standing. */
export async function recordSubscriptions(
  deps: SubscriptionDeps,
  user: User,
  orderId: string,
  accepted: readonly MessageKind[],
): Promise<SendCredit[]> {
  const order = await deps.store.findOrder(orderId);
  if (!order || order.userId !== user.id) throw notFound('order');
  for (const kind of new Set(accepted)) {
    const templateId = deps.messages.templateOf(kind);
    if (!templateId) continue; // not configured: nothing to send
    await deps.store.insertCredit({
      id: `${orderId}:${kind}`,
      orderId,
      kind,
      openid: user.openid,
      templateId,
      state: 'AVAILABLE',
      claimUntil: null,
      attempts: 0,
      lastError: null,
      sentAt: null,
      createdAt: deps.now(),
      version: 1,
    });
  }
  return deps.store.listCredits(orderId);
}

/** What the message says once its event has happened; null while it has not. */
async function valuesFor(deps: SubscriptionDeps, c: SendCredit): Promise<MessageValues | null> {
  const order = await deps.store.findOrder(c.orderId);
  if (order?.status !== 'PAID') return null;
  const base = { order: order.outTradeNo, item: order.description };
  if (c.kind === 'paid') return { ...base, amount: order.total, time: order.paidAt ?? deps.now() };
  if (c.kind === 'shipped') {
    const s = await deps.store.findShipment(c.orderId);
    if (!s) return null;
    const p = s.packages[0];
    return { ...base, carrier: p?.carrierName ?? p?.carrier ?? '无需物流', trackingNo: p?.trackingNo ?? order.outTradeNo };
  }
  const done = (await deps.store.listRefunds(c.orderId)).filter((r) => r.status === 'SUCCESS');
  if (done.length === 0) return null;
  const last = done[done.length - 1]!;
  return { ...base, amount: last.amount, time: last.settledAt ?? last.updatedAt, reason: last.reason ?? '退款已原路退回' };
}

export interface SendReport {
  sent: number;
  givenUp: number;
  retried: number;
}

/** One round: every credit whose event has happened is sent once. */
export async function sendDueMessages(deps: SubscriptionDeps, limit = 100): Promise<SendReport> {
  const report = { sent: 0, givenUp: 0, retried: 0 };
  for (const c of await deps.store.listCreditsToSend(deps.now(), limit)) {
    const values = await valuesFor(deps, c);
    if (!values) continue;
    const claimed: SendCredit = { ...c, state: 'SENDING', claimUntil: deps.now() + CLAIM_MS, version: c.version + 1 };
    if (!(await deps.store.saveCredit(claimed, c.version))) continue; // another sender has it
    let next: SendCredit;
    try {
      await deps.messages.send({ openid: c.openid, kind: c.kind, page: pageOf(c.orderId), values });
      next = { ...claimed, state: 'SENT', claimUntil: null, sentAt: deps.now(), attempts: c.attempts + 1, lastError: null };
      report.sent += 1;
      deps.onOutcome?.(c.kind, 'sent');
    } catch (err) {
      const attempts = c.attempts + 1;
      const final = err instanceof MessageSendError && err.final;
      const giveUp = final || attempts >= MAX_ATTEMPTS;
      next = {
        ...claimed,
        state: giveUp ? 'GIVEN_UP' : 'AVAILABLE',
        claimUntil: null,
        attempts,
        lastError: (err as Error).message.slice(0, 200),
      };
      if (giveUp) report.givenUp += 1;
      else report.retried += 1;
      deps.onOutcome?.(c.kind, giveUp ? 'given-up' : 'retry');
      (giveUp ? deps.logger.warn : deps.logger.info).call(
        deps.logger,
        { orderId: c.orderId, kind: c.kind, attempts, err: next.lastError },
        giveUp ? 'subscribe message given up' : 'subscribe message failed; tried again next round',
      );
    }
    await deps.store.saveCredit({ ...next, version: claimed.version + 1 }, claimed.version);
  }
  return report;
}

/** Runs rounds every `everyMs` until stopped; `kick()` runs one soon (an event just happened). */
export function startMessenger(deps: SubscriptionDeps, everyMs: number): { kick(): void; stop(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  let stopped = false;
  const round = () => {
    if (stopped || running) return;
    running = sendDueMessages(deps)
      .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'subscribe message round failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(round, everyMs);
  timer.unref();
  return {
    kick: () => setTimeout(round, 0).unref(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
