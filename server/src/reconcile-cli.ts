// One reconciliation round from the command line, wired by the composition root exactly as the server's
// own loop is: pending orders, refunds and shipments, on the configured clock, with the same metrics.
import { ConfigError, loadConfig } from './config';
import { reconcileOnce, type ReconcileReport } from './domain/reconcile';
import type { BookDay } from './domain/book-day';
import { reconcileDayNow } from './domain/books';
import { AppError } from './domain/errors';
import { createLogger } from './logger';
import { wire } from './wiring';

export function describeReport(r: ReconcileReport): string {
  return [
    `orders: ${r.examined} pending examined, ${r.paid} marked paid, ${r.closed} closed, ${r.paidAfterClose} paid after close (refund due), ${r.flagged} flagged for review, ${r.skipped} held by another instance, ${r.errors} error(s)`,
    `refunds: ${r.refunds.examined} examined, ${r.refunds.settled} settled, ${r.refunds.resubmitted} submitted again, ${r.refunds.errors} error(s)`,
    `shipments: ${r.shipments.examined} examined, ${r.shipments.uploaded} uploaded, ${r.shipments.refused} refused, ${r.shipments.moved} moved forward, ${r.shipments.errors} error(s)`,
  ].join('\n');
}

const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;

export function describeBookDay(d: BookDay): string {
  const t = d.totals;
  return [
    `books of ${d.date}: ${d.status}${d.noBill ? ' (WeChat Pay has no bill: no trade that day)' : ''}; ${d.lines} bill lines, ${d.matched} matched, ${d.discrepancies.length} discrepancies`,
    `WeChat Pay: payments ${yuan(t.wechat.payments)}, refunds ${yuan(t.wechat.refunds)}, fees ${yuan(t.wechat.fees)}, net ${yuan(t.wechat.net)}`,
    `ours:       payments ${yuan(t.ours.payments)}, refunds ${yuan(t.ours.refunds)}`,
    ...d.discrepancies.map(
      (x) =>
        `  ${x.kind}${x.repaired ? ' (repaired)' : ''}: ${[x.outTradeNo && `out_trade_no ${x.outTradeNo}`, x.outRefundNo && `out_refund_no ${x.outRefundNo}`, x.ours !== undefined && `ours ${x.ours}`, x.wechat !== undefined && `WeChat ${x.wechat}`].filter(Boolean).join(', ')}`,
    ),
  ].join('\n');
}

/** Exits 0 when the round had no errors (or the day balanced, or every discrepancy was repaired), 1 when some remain,
 *  2 when it could not run, 3 when the day's bill is not ready yet (try later). */
export async function runReconcileCommand(env: NodeJS.ProcessEnv, o: { billDate?: string } = {}): Promise<void> {
  try {
    const config = loadConfig(env);
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    const w = await wire(config, { logger });
    try {
      if (o.billDate) {
        try {
          const day = await reconcileDayNow(
            { ...w.books, onProgress: (n) => console.error(`… ${n} bill lines read`), progressEvery: 50_000 },
            o.billDate,
          );
          w.metrics.booksReconciled(day);
          console.log(describeBookDay(day));
          process.exitCode = day.status === 'DISCREPANCIES' ? 1 : 0;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          console.error(`Cannot reconcile ${o.billDate}: ${err.message}`);
          process.exitCode = err.code === 'BILL_NOT_READY' ? 3 : 2;
        }
        return;
      }
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
