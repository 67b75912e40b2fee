// `npm run serve:cluster`: one server process per core (node:cluster), all on one port. The workers
// share one SQLite file (WAL, each with its own group commit) or one MongoDB; the rate limits are
// kept by this primary for all of them (rate-limiter-flexible's cluster master); reconciliation runs
// in every worker, safely, since it leases each order before acting on it.
import cluster from 'node:cluster';
import os from 'node:os';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { serve } from './main';

const workers = Math.max(1, Number(process.env.WORKERS ?? os.availableParallelism()));

if (cluster.isPrimary) {
  new RateLimiterClusterMaster();
  let stopping = false;
  const started = new Map<number, number>();
  const fork = () => {
    const w = cluster.fork();
    started.set(w.id, Date.now());
  };
  console.log(`Cluster    ${workers} worker process(es)`);
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    // A worker that dies at once (bad configuration) would only die again: stop instead of looping.
    if (Date.now() - (started.get(worker.id) ?? 0) < 5_000) {
      console.error(`Cluster    a worker exited at start (${signal ?? code}); stopping`);
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
      process.exitCode = typeof code === 'number' && code !== 0 ? code : 1;
      return;
    }
    console.error(`Cluster    worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  void serve();
}
