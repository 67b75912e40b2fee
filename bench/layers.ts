// `npm run bench:layers`: what each cross-cutting HTTP layer costs per request, measured by stacking the
// project's own middleware one at a time over a bare route that answers a fixed order view (the read
// path's answer, without the store). Each stack runs in a process of its own under the same load; the
// figure is that process's CPU per answer, and each row's step is what its layer added. The domain's
// work (authentication, the store's reads) is not here: `npm run bench` measures the whole path.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { createLogger, logLines } from '../server/src/logger';
import { createMetrics } from '../server/src/metrics';
import { jsonBodies, requestLog, securityHeaders } from '../server/src/http/middleware';
import { rateLimit } from '../server/src/http/rate-limit';
import { load, watched } from './load';

const root = path.resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

/** The stacks, each adding one layer to the one before. */
const STACKS = [
  [],
  ['security headers'],
  ['security headers', 'request log (silent)'],
  ['security headers', 'request log (info)'],
  ['security headers', 'request log (info)', 'metrics'],
  ['security headers', 'request log (info)', 'metrics', 'routers'],
  ['security headers', 'request log (info)', 'metrics', 'routers', 'JSON only'],
  ['security headers', 'request log (info)', 'metrics', 'routers', 'JSON only', 'rate limit'],
] as const;
type Layer = (typeof STACKS)[number][number];

/** An order as GET /api/orders/:id answers it. */
const VIEW = {
  order: {
    id: 'ord_3f9a1c2b7d4e5f60a1b2c3d4',
    status: 'PAID',
    lines: [{ sku: 'MUG-CERAMIC', name: '手工陶瓷马克杯', unitPrice: 4500, quantity: 1, lineTotal: 4500 }],
    total: 4500,
    currency: 'CNY',
    description: '手工陶瓷马克杯',
    outTradeNo: '20261202Ab3dE5fG7hJ9kL1mN2',
    transactionId: '4200002026120212345678901234',
    payDeadline: '2026-12-02T12:30:00.000Z',
    paidAt: '2026-12-02T12:01:02.000Z',
    closedAt: null,
    refundDue: false,
    refundedTotal: 0,
    refunds: [],
    shipment: null,
    createdAt: '2026-12-02T12:00:00.000Z',
  },
};

function serve(layers: ReadonlySet<Layer>) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const has = (l: Layer) => layers.has(l);
  if (has('security headers')) app.use(securityHeaders());
  if (has('request log (silent)')) app.use(requestLog(createLogger('silent')));
  if (has('request log (info)')) app.use(requestLog(createLogger('info', logLines('/dev/null'))));
  if (has('metrics')) app.use(createMetrics().http);
  const limiter = new RateLimiterMemory({ keyPrefix: 'reads', points: 1e9, duration: 60 });
  const route: express.RequestHandler[] = [
    ...(has('rate limit') ? [rateLimit(limiter, () => 'shopper')] : []),
    (_req, res) => {
      res.json(VIEW);
    },
  ];
  if (has('routers')) {
    const api = express.Router();
    if (has('JSON only')) api.use(jsonBodies('16kb'));
    const orders = express.Router();
    orders.get('/:id', ...route);
    api.use('/orders', orders);
    app.use('/api', api);
  } else app.get('/api/orders/:id', ...route);
  const server = app.listen(0, '127.0.0.1', () => console.log(`READY ${(server.address() as { port: number }).port}`));
}

async function main() {
  const rows: { stack: string; rate: number; micros: number }[] = [];
  for (const stack of STACKS) {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename], {
      cwd: root,
      env: { ...process.env, LAYERS_SERVE: JSON.stringify(stack) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /READY (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`a layer stack exited ${code}`)));
    });
    watched.clear();
    watched.set('stack', child.pid!);
    const url = `http://127.0.0.1:${port}/api/orders/ord_3f9a1c2b7d4e5f60a1b2c3d4`;
    await load({ url, connections: 32, duration: 1 }); // warm up
    const l = await load({ url, connections: 32, duration: SECONDS });
    child.kill('SIGKILL');
    if (l.non2xx || l.errors) throw new Error(`${stack.join(' + ')}: ${l.non2xx} non-2xx, ${l.errors} errors`);
    rows.push({ stack: stack.at(-1) ?? 'bare route', rate: l.rate, micros: ((l.cores.stack ?? 0) / l.rate) * 1e6 });
  }
  console.log(`\nHTTP layers, each added to the ones above (${os.cpus().length} cores, 32 concurrent, ${SECONDS} s each)\n`);
  console.log('| Layer added | answers/s | CPU µs per answer | step |\n|---|---|---|---|');
  for (const [i, r] of rows.entries())
    console.log(
      `| ${r.stack} | ${r.rate.toFixed(0)} | ${r.micros.toFixed(0)} | ${i ? `${r.micros - rows[i - 1]!.micros >= 0 ? '+' : ''}${(r.micros - rows[i - 1]!.micros).toFixed(0)}` : ''} |`,
    );
  fs.writeFileSync(path.join(root, 'bench/layers.json'), `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`);
}

if (process.env.LAYERS_SERVE) serve(new Set(JSON.parse(process.env.LAYERS_SERVE) as Layer[]));
else void main();
