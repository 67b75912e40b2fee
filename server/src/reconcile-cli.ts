// One reconciliation round from the command line, wired by the composition root exactly as the server's
// own loop is: pending orders, refunds and shipments, on the configured clock, with the same metrics.
import { ConfigError, loadConfig } from './config';
import { reconcileOnce, type ReconcileReport } from './domain/reconcile';
import { createLogger } from './logger';
import { wire } from './wiring';

export function describeReport(r: ReconcileReport): string {
  return [
    `orders: ${r.examined} pending examined, ${r.paid} marked paid, ${r.closed} closed, ${r.paidAfterClose} paid after close (refund due), ${r.flagged} flagged for review, ${r.skipped} held by another instance, ${r.errors} error(s)`,
    `refunds: ${r.refunds.examined} examined, ${r.refunds.settled} settled, ${r.refunds.resubmitted} submitted again, ${r.refunds.errors} error(s)`,
    `shipments: ${r.shipments.examined} examined, ${r.shipments.uploaded} uploaded, ${r.shipments.refused} refused, ${r.shipments.moved} moved forward, ${r.shipments.errors} error(s)`,
  ].join('\n');
}

/** Exits 0 when the round had no errors, 1 when some did, 2 when it could not run. */
export async function runReconcileCommand(env: NodeJS.ProcessEnv): Promise<void> {
  try {
    const config = loadConfig(env);
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    const w = await wire(config, { logger });
    try {
      const report = await reconcileOnce(w.reconcile);
      w.metrics.reconciled(report);
      console.log(describeReport(report));
      const errors = report.errors + report.refunds.errors + report.shipments.errors;
      process.exitCode = errors ? 1 : 0;
    } finally {
      await w.close();
    }
  } catch (err) {
    console.error(`Cannot reconcile: ${err instanceof ConfigError ? err.message : (err as Error).message}`);
    process.exitCode = 2;
  }
}
