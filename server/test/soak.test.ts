// A bounded soak on loopback: SOAK_SECONDS (default 60) of mixed checkout, payment (so
// notifications) and order reads at a steady rate. Zero errors; heap growth after GC bounded.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figure } from './figures';
import { startTestSystem, waitFor, type TestSystem } from './helpers';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CHECKOUTS_PER_SECOND = 8;
const READS_PER_SECOND = 16;
/** Heap may grow this much (after GC) over the run: caches are bounded, orders live in SQLite. */
const HEAP_GROWTH_LIMIT_MB = 32;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({
    env: { LOG_LEVEL: 'warn', RECONCILE_INTERVAL_SECONDS: '5', RECONCILE_MIN_AGE_SECONDS: '30', ORDER_QUERY_THROTTLE_MS: '1000' },
    system: { limits: { loginPerMinute: 1_000_000, ordersPerMinute: 1_000_000, retriesPerMinute: 1_000_000, readsPerMinute: 1_000_000 } },
  });
});
afterAll(() => sys.close());

describe('soak', () => {
  it(
    `runs ${SECONDS} s of mixed traffic with zero errors and bounded memory`,
    async () => {
      const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => sys.login(`soak-${i}`)));
      const skus = ['COFFEE-BEANS-250G', 'DRIP-BAGS-10', 'MUG-CERAMIC', 'STICKER-PACK'];
      const orderIds: string[] = [];
      const latencies: number[] = [];
      const errors: string[] = [];
      let requests = 0;
      let seq = 0;
      let cancelled = 0;

      const checkout = async () => {
        const token = tokens[seq % tokens.length]!;
        const sku = skus[seq % skus.length]!;
        seq += 1;
        const started = performance.now();
        requests += 1;
        const res = await sys.request('POST', '/api/orders', {
          token,
          body: { items: [{ sku, quantity: 1 + (seq % 3) }] },
          headers: { 'Idempotency-Key': `soak-${seq}` },
        });
        latencies.push(performance.now() - started);
        if (res.status !== 201) return void errors.push(`checkout ${res.status} ${JSON.stringify(res.body)}`);
        orderIds.push(res.body.order.id);
        requests += 1;
        const cancel = seq % 5 === 0;
        if (cancel) cancelled += 1;
        const paid = await sys.pay(res.body.payment, cancel ? 'cancel' : 'success');
        if (!/requestPayment:(ok|fail cancel)/.test(paid.body.errMsg)) errors.push(`pay ${paid.body.errMsg}`);
      };
      const read = async () => {
        if (!orderIds.length) return;
        const i = Math.floor(Math.random() * orderIds.length);
        requests += 1;
        const res = await sys.request('GET', `/api/orders/${orderIds[i]}`, { token: tokens[0]! });
        if (res.status !== 200 && res.status !== 404) errors.push(`read ${res.status}`);
      };

      // Warm up, then take the baseline.
      for (let i = 0; i < 20; i++) await checkout();
      await sys.sandbox.idle();
      const heapBefore = heapMb();
      const rssBefore = process.memoryUsage().rss / 1024 / 1024;

      const inflight = new Set<Promise<void>>();
      const fire = (p: Promise<void>) => {
        const q = p.catch((e) => void errors.push(String(e))).finally(() => inflight.delete(q));
        inflight.add(q);
      };
      const end = Date.now() + SECONDS * 1000;
      const tickMs = 1000 / (CHECKOUTS_PER_SECOND + READS_PER_SECOND);
      let tick = 0;
      while (Date.now() < end) {
        const isCheckout = tick % (CHECKOUTS_PER_SECOND + READS_PER_SECOND) < CHECKOUTS_PER_SECOND;
        fire(isCheckout ? checkout() : read());
        tick += 1;
        await new Promise((r) => setTimeout(r, tickMs));
      }
      await Promise.all([...inflight]);
      await sys.sandbox.idle();

      const countPaid = async () => {
        let paid = 0;
        for (const id of orderIds) if ((await sys.server.store.findOrder(id))?.status === 'PAID') paid += 1;
        return paid;
      };
      const paidCount = await waitFor(
        async () => ((await countPaid()) === orderIds.length - cancelled ? orderIds.length - cancelled : null),
        10_000,
        200,
      ).catch(countPaid);

      const heapAfter = heapMb();
      const rssAfter = process.memoryUsage().rss / 1024 / 1024;
      const sorted = [...latencies].sort((a, b) => a - b);
      const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
      figure(
        'soak',
        `${SECONDS} s at ${CHECKOUTS_PER_SECOND} checkouts/s + ${READS_PER_SECOND} reads/s: ${requests} requests, ${orderIds.length} orders (${paidCount} paid, ${cancelled} cancelled), ` +
          `${errors.length} errors; checkout p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms; ` +
          `heap after GC ${heapBefore.toFixed(1)} → ${heapAfter.toFixed(1)} MB (limit +${HEAP_GROWTH_LIMIT_MB} MB), RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`,
        {
          seconds: SECONDS,
          requests,
          orders: orderIds.length,
          paid: paidCount,
          errors: errors.length,
          p50: Number(p(0.5).toFixed(1)),
          p99: Number(p(0.99).toFixed(1)),
          heapBeforeMb: Number(heapBefore.toFixed(1)),
          heapAfterMb: Number(heapAfter.toFixed(1)),
        },
      );
      expect(errors.slice(0, 5)).toEqual([]);
      expect(paidCount).toBe(orderIds.length - cancelled); // every successful payment ended PAID
      expect(heapAfter - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT_MB);
    },
    (SECONDS + 60) * 1000,
  );
});
