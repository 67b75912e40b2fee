// `npm run reconcile`: one reconciliation round against the configured store and WeChat Pay, for
// cron or by hand. Against `npm start`'s sandbox: load DATA_DIR/sandbox/sandbox.env first (README).
import { ConfigError, loadConfig } from './config';
import { reconcileOnce } from './domain/reconcile';
import { createLogger } from './logger';
import { createProviders, openStore } from './server';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { payments } = createProviders(config);
  const store = await openStore(config, logger);
  try {
    const report = await reconcileOnce({ store, provider: payments, now: () => Date.now(), logger, minAgeMs: config.reconcileMinAgeMs });
    console.log(
      `reconciled: ${report.examined} pending order(s) examined, ${report.paid} marked paid, ${report.closed} closed, ` +
        `${report.paidAfterClose} paid after close (refund due), ${report.skipped} held by another instance, ${report.errors} error(s)`,
    );
    process.exitCode = report.errors ? 1 : 0;
  } finally {
    await store.close();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `Cannot reconcile: ${err.message}` : `Cannot reconcile: ${(err as Error).message}`);
  process.exit(2);
});
