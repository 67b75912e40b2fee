// Reconciliation: asks the payment provider about orders still pending some time after a payment
// attempt. A success goes through the same code path as a notification; an order past its payment
// deadline is closed at the provider first (so it can never be paid afterwards), then locally. Each
// order is leased in the store first, so several instances never act on one order together.
import crypto from 'node:crypto';
import { PaymentProviderError } from './ports/payment-provider';
import type { PaymentDeps } from './deps';
import { applyPaymentSucceeded } from './payment-events';
import { reconcileRefunds, type RefundReconcileReport } from './refunds';
import { syncShipments, type FulfilmentDeps, type ShipmentSyncReport } from './fulfilment';
import { type ComplaintDeps, type ComplaintReconcileReport, reconcileComplaints } from './complaints';

export interface ReconcileDeps extends PaymentDeps {
  /** Leave orders younger than this to the shopper and the notification. */
  minAgeMs: number;
  /** How long a claim on one order lasts; longer than one provider round trip. */
  leaseMs?: number;
  batchSize?: number;
  owner?: string;
  /** Shipments to send again and to follow at WeChat (shipping-info management); absent, none. */
  fulfilment?: FulfilmentDeps;
  /** Complaints to re-read (a lost notification is caught); absent, none. */
  complaints?: ComplaintDeps;
}

export interface ReconcileReport {
  examined: number;
  paid: number;
  closed: number;
  paidAfterClose: number;
  /** Reported payments the shop cannot apply (wrong amount or payee): flagged for the operator, then left alone. */
  flagged: number;
  skipped: number;
  errors: number;
  refunds: RefundReconcileReport;
  shipments: ShipmentSyncReport;
  complaints: ComplaintReconcileReport;
}

const emptyReport = (): ReconcileReport => ({
  examined: 0,
  paid: 0,
  closed: 0,
  paidAfterClose: 0,
  flagged: 0,
  skipped: 0,
  errors: 0,
  refunds: { examined: 0, settled: 0, resubmitted: 0, errors: 0 },
  shipments: { examined: 0, uploaded: 0, refused: 0, moved: 0, errors: 0 },
  complaints: { examined: 0, errors: 0 },
});
const newOwner = () => `reconciler-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;

export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileReport> {
  const owner = deps.owner ?? newOwner();
  const now = deps.now();
  const report = emptyReport();
  const candidates = await deps.store.listReconcileCandidates(now - deps.minAgeMs, now, deps.batchSize ?? 100);
  for (const order of candidates) {
    if (!(await deps.store.claimOrder(order.id, owner, deps.now() + (deps.leaseMs ?? 30_000), deps.now()))) {
      report.skipped += 1; // another instance has it
      continue;
    }
    report.examined += 1;
    try {
      const settle = async (): Promise<boolean> => {
        const status = await deps.provider.query(order.outTradeNo);
        if (status?.state !== 'SUCCEEDED') return false;
        const r = await applyPaymentSucceeded(deps, status.payment, 'reconcile');
        if (r.outcome === 'APPLIED') report.paid += 1;
        if (r.outcome === 'PAID_AFTER_CLOSE') report.paidAfterClose += 1;
        if (r.outcome === 'AMOUNT_MISMATCH' || r.outcome === 'APPID_MISMATCH' || r.outcome === 'MCHID_MISMATCH') report.flagged += 1;
        return true;
      };
      if (await settle()) continue;
      if (deps.now() < order.payDeadline) continue;
      try {
        await deps.provider.close(order.outTradeNo);
      } catch (err) {
        // Paid at the last moment: the provider refuses to close. Take the payment instead.
        if (err instanceof PaymentProviderError && err.failure === 'ALREADY_PAID' && (await settle())) continue;
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
  report.refunds = await reconcileRefunds(deps);
  if (deps.fulfilment) report.shipments = await syncShipments(deps.fulfilment);
  if (deps.complaints) report.complaints = await reconcileComplaints(deps.complaints);
  if (report.examined || report.errors || report.refunds.examined || report.shipments.examined)
    deps.logger.info({ ...report }, 'reconciliation round');
  return report;
}

export interface Reconciler {
  /** One round now; waits for a round already running instead of overlapping it. */
  runNow(): Promise<ReconcileReport>;
  stop(): Promise<void>;
}

/** Runs reconcileOnce every `intervalMs` (0: only when asked) until stopped; rounds never overlap. */
export function startReconciler(
  deps: ReconcileDeps,
  intervalMs: number,
  onRound: (report: ReconcileReport) => void = () => undefined,
): Reconciler {
  let stopped = false;
  let running: Promise<ReconcileReport> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const owner = deps.owner ?? newOwner();
  const round = () => {
    running ??= reconcileOnce({ ...deps, owner })
      .catch((err) => {
        deps.logger.warn({ err: (err as Error).message }, 'reconciliation round failed');
        return { ...emptyReport(), errors: 1 };
      })
      .then((report) => {
        onRound(report);
        return report;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const schedule = () => {
    if (stopped || intervalMs <= 0) return;
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
