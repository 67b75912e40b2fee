// Reconciliation: asks WeChat Pay about orders still pending some time after a payment attempt.
// A SUCCESS goes through the same code path as a notification; an order past its payment deadline
// is closed at WeChat Pay first (so it can never be paid afterwards), then locally. Each order is
// leased in the store first, so several instances never act on one order together.
import crypto from 'node:crypto';
import { WechatPayApiError, type WechatPayClient } from '../wechatpay/client';
import { applyPaymentSucceeded, paymentSucceededFrom, type PaymentEventDeps } from './payment-events';

export interface ReconcileDeps extends PaymentEventDeps {
  wechatPay: WechatPayClient;
  /** Leave orders younger than this to the shopper and the notification. */
  minAgeMs: number;
  /** How long a claim on one order lasts; longer than one WeChat Pay round trip. */
  leaseMs?: number;
  batchSize?: number;
  owner?: string;
}

export interface ReconcileReport {
  examined: number;
  paid: number;
  closed: number;
  paidAfterClose: number;
  skipped: number;
  errors: number;
}

export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileReport> {
  const owner = deps.owner ?? `reconciler-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const now = deps.now();
  const report: ReconcileReport = { examined: 0, paid: 0, closed: 0, paidAfterClose: 0, skipped: 0, errors: 0 };
  const candidates = await deps.store.listReconcileCandidates(now - deps.minAgeMs, now, deps.batchSize ?? 100);
  for (const order of candidates) {
    if (!(await deps.store.claimOrder(order.id, owner, deps.now() + (deps.leaseMs ?? 30_000), deps.now()))) {
      report.skipped += 1; // another instance has it
      continue;
    }
    report.examined += 1;
    try {
      const settle = async (): Promise<boolean> => {
        const t = await deps.wechatPay.queryByOutTradeNo(order.outTradeNo);
        if (t?.trade_state !== 'SUCCESS') return false;
        const r = await applyPaymentSucceeded(deps, paymentSucceededFrom(t, 'reconcile', deps.now()));
        if (r.outcome === 'APPLIED') report.paid += 1;
        if (r.outcome === 'PAID_AFTER_CLOSE') report.paidAfterClose += 1;
        return true;
      };
      if (await settle()) continue;
      if (deps.now() < order.payDeadline) continue;
      try {
        await deps.wechatPay.close(order.outTradeNo);
      } catch (err) {
        // Paid at the last moment: WeChat refuses to close. Take the payment instead.
        if (err instanceof WechatPayApiError && /ORDER_?PAID/.test(err.wechatCode) && (await settle())) continue;
        throw err;
      }
      if (await deps.store.markClosed(order.id, deps.now())) report.closed += 1;
    } catch (err) {
      report.errors += 1;
      deps.logger.warn({ orderId: order.id, err: (err as Error).message }, 'reconciliation of an order failed; will try again next round');
    } finally {
      await deps.store.releaseOrder(order.id, owner).catch(() => undefined);
    }
  }
  if (report.examined || report.errors) deps.logger.info({ ...report }, 'reconciliation round');
  return report;
}

/** Runs reconcileOnce every `intervalMs` until stopped; a round never overlaps the previous one. */
export function startReconciler(deps: ReconcileDeps, intervalMs: number): { stop(): Promise<void>; runNow(): Promise<ReconcileReport> } {
  let stopped = false;
  let running: Promise<ReconcileReport> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const owner = deps.owner ?? `reconciler-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const round = () => {
    running ??= reconcileOnce({ ...deps, owner })
      .catch((err) => {
        deps.logger.warn({ err: (err as Error).message }, 'reconciliation round failed');
        return { examined: 0, paid: 0, closed: 0, paidAfterClose: 0, skipped: 0, errors: 1 };
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      await round();
      schedule();
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    runNow: round,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
