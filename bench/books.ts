// `npm run bench:books`: a day of N bill lines reconciled against N payments in SQLite, as the server does it:
// the bill written in WeChat's format and gzipped to a file, read back through the same stream (gunzip, SHA-1,
// the format's reader) and domain code the server runs, every line looked up in the store, the day stored.
// Each size is prepared in one child process and reconciled in a fresh one, whose memory is measured around
// the reconciliation: the heap's peak above its start (sampled every 5 ms, garbage included) and the
// process's peak resident size (VmHWM) above its start. Beside it, the same file only parsed (no store):
// this machine's ceiling for the reading part.
//   BENCH_BOOKS_SIZES=10000,100000 (default 10000,50000,100000)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { reconcileDay } from '../server/src/domain/books';
import { beijingDay } from '../server/src/domain/book-day';
import type { PaymentProvider } from '../server/src/domain/ports/payment-provider';
import { readyBill } from '../server/src/payments/bill-stream';
import { createSqliteStore } from '../server/src/storage/sqlite';
import { billLine, fenToYuan, microToYuan, TRADE_BILL_COLUMNS, TRADE_BILL_SUMMARY } from '../server/src/wechatpay/bill';
import { makeOrder } from '../server/test/orders-fixture';

const DATE = '2026-12-01';
const FEE_RATE = 0.006;

interface Measured {
  lines: number;
  seconds: number;
  linesPerSecond: number;
  parseOnlyPerSecond: number;
  heapPeakMb: number;
  rssPeakMb: number;
  heapAfterMb?: number;
  status: string;
  discrepancies: number;
}

/** In a process of its own: N paid orders in SQLite and their bill, gzipped, in `dir`. */
async function prepare(n: number, dir: string): Promise<void> {
  {
    const store = createSqliteStore({ filename: path.join(dir, 'books.sqlite') });
    const day = beijingDay(DATE)!;
    // Our side: N paid orders with their payments, written in batches (the group commit gathers each batch).
    const user = await store.upsertUser({ openid: 'oBENCHBOOKS', unionid: null, sessionKey: 'c2Vzc2lvbmtleQ==', now: day.start });
    const payments: { transactionId: string; outTradeNo: string; amount: number; at: number }[] = [];
    for (let i = 0; i < n; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, n - i) }, async (_, k) => {
          const j = i + k;
          const amount = 100 + (j % 9000);
          const at = day.start + Math.floor((j / n) * 86_000_000);
          const { order, attempt } = makeOrder(user.id, {
            total: amount,
            outTradeNo: `B${DATE.replaceAll('-', '')}${String(j).padStart(12, '0')}`,
          });
          const transactionId = `4200002026120${String(j).padStart(15, '0')}`;
          await store.insertOrder(order, attempt);
          await store.markPaid(order.id, { transactionId, paidAt: at, outTradeNo: order.outTradeNo! }, at, {
            payment: { transactionId, orderId: order.id, outTradeNo: order.outTradeNo!, amount, kind: 'ORDER', paidAt: at },
          });
          payments[j] = { transactionId, outTradeNo: order.outTradeNo!, amount, at };
        }),
      );
    }
    // WeChat's side: the same payments as a trade bill (BOM, CRLF, summary), gzipped to a file.
    const file = path.join(dir, 'bill.csv.gz');
    const hash = crypto.createHash('sha1');
    let settlement = 0;
    let fees = 0;
    const columns = TRADE_BILL_COLUMNS.ALL;
    function* text() {
      yield `\uFEFF${columns}\r\n`;
      for (const p of payments) {
        const fee = Math.floor(p.amount * FEE_RATE + 0.5) * 1000;
        settlement += p.amount;
        fees += fee;
        yield `${billLine(columns, {
          交易时间: new Date(p.at + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' '),
          公众账号ID: 'wxbench',
          商户号: '1900000109',
          特约商户号: '0',
          微信订单号: p.transactionId,
          商户订单号: p.outTradeNo,
          用户标识: 'oBENCHBOOKS',
          交易类型: 'JSAPI',
          交易状态: 'SUCCESS',
          付款银行: 'OTHERS',
          货币种类: 'CNY',
          应结订单金额: fenToYuan(p.amount),
          代金券金额: '0.00',
          微信退款单号: '0',
          商户退款单号: '0',
          退款金额: '0.00',
          充值券退款金额: '0.00',
          商品名称: '陶瓷马克杯 ×2',
          手续费: microToYuan(fee),
          费率: '0.60%',
          订单金额: fenToYuan(p.amount),
          申请退款金额: '0.00',
        })}\r\n`;
      }
      yield `${TRADE_BILL_SUMMARY.ALL}\r\n`;
      yield `${billLine(TRADE_BILL_SUMMARY.ALL, {
        总交易单数: String(payments.length),
        应结订单总金额: fenToYuan(settlement),
        退款总金额: '0.00',
        充值券退款总金额: '0.00',
        手续费总金额: microToYuan(fees),
        订单总金额: fenToYuan(settlement),
        申请退款总金额: '0.00',
      })}\r\n`;
    }
    await pipeline(
      Readable.from(
        (function* () {
          for (const t of text()) {
            const b = Buffer.from(t, 'utf8');
            hash.update(b);
            yield b;
          }
        })(),
      ),
      createGzip(),
      fs.createWriteStream(file),
    );
    fs.writeFileSync(path.join(dir, 'bill.sha1'), hash.digest('hex'));
    await store.close();
  }
}

const vm = (field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

/** In a fresh process: the bill only read, then the day reconciled, with this process's memory around it. */
async function run(dir: string): Promise<Measured> {
  {
    const store = createSqliteStore({ filename: path.join(dir, 'books.sqlite') });
    const day = beijingDay(DATE)!;
    const file = path.join(dir, 'bill.csv.gz');
    const sha1 = fs.readFileSync(path.join(dir, 'bill.sha1'), 'utf8');
    const billOf = () => readyBill(fs.createReadStream(file), { gzip: true, sha1 });

    // The ceiling: the same file, only read.
    let t0 = performance.now();
    let parsed = 0;
    for await (const _ of billOf().entries) parsed += 1;
    const parseOnlyPerSecond = parsed / ((performance.now() - t0) / 1000);

    const provider = {
      payee: { appId: 'wxbench', merchantId: '1900000109' },
      dayBill: async () => billOf(),
    } as unknown as PaymentProvider;
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    (globalThis as { gc?: () => void }).gc?.();
    const base = process.memoryUsage();
    const rssBase = vm('VmRSS');
    let heapPeak = base.heapUsed;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 5);
    t0 = performance.now();
    const out = await reconcileDay({ store, provider, now: () => day.end + 11 * 3600_000, logger: quiet }, DATE);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    const rssPeak = vm('VmHWM');
    if (out.state !== 'RECONCILED') throw new Error(`not reconciled: ${out.state}`);
    await store.close();
    return {
      lines: out.day.lines,
      seconds,
      linesPerSecond: out.day.lines / seconds,
      parseOnlyPerSecond,
      heapPeakMb: (heapPeak - base.heapUsed) / 2 ** 20,
      rssPeakMb: rssPeak - rssBase,
      status: out.day.status,
      discrepancies: out.day.discrepancies.length,
    };
  }
}

if (process.argv[2] === '--prepare') {
  prepare(Number(process.argv[3]), process.argv[4]!).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if (process.argv[2] === '--run') {
  run(process.argv[3]!).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  const sizes = (process.env.BENCH_BOOKS_SIZES ?? '10000,50000,100000').split(',').map(Number);
  const rows: Measured[] = [];
  for (const n of sizes) {
    process.stderr.write(`… ${n} lines\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-books-'));
    try {
      const node = (args: string[]) =>
        execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, ...args], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        });
      node(['--prepare', String(n), dir]);
      rows.push(JSON.parse(node(['--run', dir]).trim().split('\n').pop()!) as Measured);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('\nA day of bill lines reconciled against SQLite (one process per size)\n');
  console.log(
    '| Lines | Time | Lines/s (target ≥ 20,000) | Only reading the bill, lines/s | Ratio | Heap peak above start | RSS peak above start | Result |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.lines} | ${r.seconds.toFixed(2)} s | ${Math.round(r.linesPerSecond)} | ${Math.round(r.parseOnlyPerSecond)} | ${(r.linesPerSecond / r.parseOnlyPerSecond).toFixed(2)} | ${r.heapPeakMb.toFixed(1)} MB | ${r.rssPeakMb.toFixed(1)} MB | ${r.status}, ${r.discrepancies} discrepancies |`,
    );
  fs.writeFileSync(path.join(import.meta.dirname, 'books.json'), `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`);
}
