// `npm run bench`: throughput of the hot paths on this machine, server and load in one process
// (so the figures are a floor: the load generator shares the CPU). Not part of `npm test`.
import crypto from 'node:crypto';
import { ensureSandboxKeys } from '../sandbox/keys';
import { buildNotification } from '../sandbox/notify';
import { parseNotification } from '../server/src/wechatpay/notification';
import { createVerifier } from '../server/src/wechatpay/verifier';
import { startTestSystem } from '../server/test/helpers';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

async function pool(concurrency: number, seconds: number, task: (i: number) => Promise<boolean>) {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        if (await task(next++)) done += 1;
        else failed += 1;
      }
    }),
  );
  return { perSecond: done / seconds, failed };
}

async function main() {
  const sys = await startTestSystem({ env: { LOG_LEVEL: 'silent', RECONCILE_INTERVAL_SECONDS: '0' }, system: { limits: { loginPerMinute: 1e9, ordersPerMinute: 1e9, retriesPerMinute: 1e9, readsPerMinute: 1e9 } } });
  const keys = ensureSandboxKeys(sys.dataDir);
  const signer = sys.sandbox.signer();
  const rows: [string, string][] = [];

  // 1. The notification pipeline alone: headers, timestamp, RSA verify, AES-GCM decrypt, parse.
  const verifier = createVerifier({ publicKey: { id: keys.publicKeyId, pem: keys.platformPublicKeyPem } });
  const sample = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: { appid: keys.appid, mchid: keys.mchid, out_trade_no: 'BENCH0001', trade_state: 'SUCCESS', amount: { total: 1 } } });
  const h = sample.headers;
  const raw = Buffer.from(sample.body);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    parseNotification({ verifier, apiV3Key: keys.apiV3Key, nowMs: Date.now }, { serial: h['Wechatpay-Serial'], signature: h['Wechatpay-Signature'], timestamp: h['Wechatpay-Timestamp'], nonce: h['Wechatpay-Nonce'] }, raw);
    n += 1;
  }
  rows.push(['notification pipeline, in process (verify + decrypt + parse)', `${Math.round(n / SECONDS)}/s`]);

  // 2. Checkout over HTTP: price, save, signed JSAPI call to the sandbox, verified answer, paySign.
  const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => sys.login(`bench-${i}`)));
  const orders: { outTradeNo: string; total: number }[] = [];
  const checkout = await pool(8, SECONDS, async (i) => {
    const r = await sys.request('POST', '/api/orders', { token: tokens[i % 8]!, body: { items: [{ sku: 'STICKER-PACK', quantity: 1 + (i % 9) }] } });
    if (r.status === 201) orders.push({ outTradeNo: r.body.order.outTradeNo, total: r.body.order.total });
    return r.status === 201;
  });
  rows.push(['POST /api/orders, 8 concurrent (incl. the sandbox\'s side)', `${checkout.perSecond.toFixed(0)}/s, ${checkout.failed} failed`]);

  // 3. Notifications over HTTP, each for a distinct pending order (the PENDING → PAID path).
  const deliveries = orders.map((o) => buildNotification({ apiV3Key: keys.apiV3Key, signer, id: crypto.randomUUID(), transaction: { appid: keys.appid, mchid: keys.mchid, out_trade_no: o.outTradeNo, transaction_id: `42${crypto.randomInt(1e9)}`.padEnd(28, '0'), trade_state: 'SUCCESS', amount: { total: o.total, currency: 'CNY' } } }));
  const started = performance.now();
  let k = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (k < deliveries.length) {
        const d = deliveries[k++]!;
        const r = await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
        if (r.status === 204) ok += 1;
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  rows.push([`POST /api/wechatpay/notify, 16 concurrent, ${deliveries.length} distinct orders paid`, `${(ok / secs).toFixed(0)}/s, ${deliveries.length - ok} not 204`]);

  await sys.close();
  console.log(`\nbench (${SECONDS} s each, Node ${process.version}, ${(await import('node:os')).cpus().length} cores, SQLite)`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(66)} ${value}`);
}

void main();
