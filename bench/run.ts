// `npm run bench`: the hot paths under load, each beside this machine's own ceiling measured in the
// same run, so a figure can be compared across machines and days. The sandbox and the server run in
// processes of their own; the load comes from this process (autocannon). Prints a table and writes
// bench/results.json. Not part of `npm test`: performance targets live here, never in timed tests.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import Database from 'better-sqlite3';
import { ensureSandboxKeys } from '../sandbox/keys';
import { buildNotification } from '../sandbox/notify';
import { SEED_PRODUCTS } from '../server/src/domain/catalog';
import { createSqliteStore } from '../server/src/storage/sqlite';
import { makeOrder } from '../server/test/orders-fixture';
import { load, paced, watched, type Load } from './load';

const root = path.resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
// BENCH_ONLY=notify,checkout,reads,junk runs just those scenarios (the ceilings are always measured);
// BENCH_PROFILE=dir writes the server's and the sandbox's CPU profiles there (node --cpu-prof, in dir/server
// and dir/sandbox, one file per thread) when the bench ends.
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (scenario: string) => !ONLY || ONLY.has(scenario);
const profile = (name: string) => (PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(PROFILE, name)] : []);
const PROFILE = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : null;
const children: ChildProcess[] = [];

function start(script: string, env: NodeJS.ProcessEnv, ready: RegExp, nodeArgs: string[] = [], name?: string): Promise<string> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  if (name && child.pid) watched.set(name, child.pid);
  let out = '';
  return new Promise((resolve, reject) => {
    const on = (d: Buffer) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve(m[1] ?? out);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}:\n${out}`)));
  });
}

const perSecond = (seconds: number, fn: () => void): number => {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    fn();
    n += 1;
  }
  return n / seconds;
};

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return (await res.json()) as any;
}

/** This run's files (databases, the sandbox's keys): removed when the bench ends. */
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));

async function main() {
  const results: Record<string, unknown> = { date: new Date().toISOString(), cpus: os.cpus().length, node: process.version };

  // ---- this machine's ceilings, measured now -------------------------------------------------
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const msg = Buffer.from('x'.repeat(300));
  const sig = crypto.sign('sha256', msg, privateKey);
  const signRate = perSecond(1, () => crypto.sign('sha256', msg, privateKey));
  const verifyRate = perSecond(1, () => crypto.verify('sha256', msg, publicKey, sig));
  const db = new Database(path.join(dataDir, 'commit-ceiling.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const commitRate = perSecond(1, () => ins.run('x'.repeat(200)));
  db.close();
  const barePort = await start('bench/bare-express.ts', {}, /READY (\d+)/, [], 'bare');
  // The bare route's rate drifts with the host's load over minutes: each scenario's ratio uses a measurement
  // taken right before it (these first ones are printed as the machine's ceilings).
  const bareGetLoad = () => load({ url: `http://127.0.0.1:${barePort}/json`, connections: 32, duration: SECONDS });
  const barePostLoad = () =>
    load({ url: `http://127.0.0.1:${barePort}/json`, method: 'POST', body: 'x'.repeat(1500), connections: 64, duration: SECONDS });
  const bareGet = await bareGetLoad();
  const barePost = await barePostLoad();
  let barePostBeforeNotify = barePost;
  let bareGetBeforeReads = bareGet;
  results.ceilings = {
    rsaSignPerSecond: signRate,
    rsaVerifyPerSecond: verifyRate,
    sqliteCommitsPerSecond: commitRate,
    bareExpressGet32: bareGet.rate,
    bareExpressPost64: barePost.rate,
  };

  // ---- the system: sandbox and server in their own processes ---------------------------------
  const apiPort = 3600 + Math.floor(Math.random() * 300);
  await start(
    'sandbox/main.ts',
    { DATA_DIR: dataDir, SANDBOX_PORT: '0', SANDBOX_TLS_PORT: '0', PORT: String(apiPort) },
    /READY sandbox (\S+)/,
    profile('sandbox'),
    'sandbox',
  );
  const credentials = util.parseEnv(fs.readFileSync(path.join(dataDir, 'sandbox', 'sandbox.env'), 'utf8')) as Record<string, string>;
  const adminToken = crypto.randomBytes(32).toString('base64url');
  const serverEnv = {
    ...credentials,
    DATA_DIR: dataDir,
    PORT: String(apiPort),
    DATA_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    ADMIN_TOKEN: adminToken,
    SERVE_CLIENT: 'off',
    RECONCILE_INTERVAL_SECONDS: '0',
    ORDER_QUERY_THROTTLE_MS: '600000',
    LIMIT_LOGIN_PER_MINUTE: '1000000',
    LIMIT_ORDERS_PER_MINUTE: '1000000',
    LIMIT_RETRIES_PER_MINUTE: '1000000',
    LIMIT_READS_PER_MINUTE: '1000000',
  };
  // Pending orders to be paid by the notification scenarios, written before the server starts.
  const keys = ensureSandboxKeys(dataDir);
  const seed = createSqliteStore({ filename: path.join(dataDir, 'checkout.sqlite') });
  await seed.seedProducts(SEED_PRODUCTS);
  const user = await seed.upsertUser({ openid: 'oBENCH000000', unionid: null, sessionKey: 'v1:x', now: Date.now() });
  const ORDERS = Number(process.env.BENCH_NOTIFICATIONS ?? 12_000);
  const pending: { outTradeNo: string; total: number }[] = [];
  const now = Date.now();
  const batch: Promise<void>[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const outTradeNo = `BENCH${String(i).padStart(10, '0')}`;
    const { order, attempt } = makeOrder(user.id, {
      lines: [{ sku: 'STICKER-PACK', name: '贴纸一套', unitPrice: 1, quantity: 1, lineTotal: 1 }],
      total: 1,
      description: '贴纸一套',
      outTradeNo,
      payDeadline: now + 3600_000,
      createdAt: now,
      updatedAt: now,
    });
    batch.push(seed.insertOrder(order, attempt));
    pending.push({ outTradeNo, total: 1 });
  }
  await Promise.all(batch);
  await seed.close();
  const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
  // A cluster's workers each count their own commits and keep their own metrics, and a request to
  // /api/admin/stats or /metrics reaches one of them: the server's own figures are read only from one process.
  const oneProcess = WORKERS === 1;
  const api =
    WORKERS > 1
      ? await start(
          'server/src/cluster.ts',
          { ...serverEnv, WORKERS: String(WORKERS) },
          new RegExp(`(?:API +(http://[^/]+)[\\s\\S]*){${WORKERS}}`),
          [],
          'cluster',
        ) // its cores: the primary and its workers
      : await start(
          process.env.BENCH_SERVER_SCRIPT ?? 'server/test/serve-for-tests.ts',
          serverEnv,
          /READY \{"api":"([^"]+)"/,
          profile('server'),
          'server',
        );
  // The peer (bench/peer.ts): the shop written from the SDK's README, against the same sandbox, with the
  // same pending orders in a database of its own.
  const peer = `http://127.0.0.1:${await start(
    'bench/peer.ts',
    { ...credentials, PEER_DB: path.join(dataDir, 'peer.sqlite'), PEER_PENDING_ORDERS: String(ORDERS) },
    /READY (\d+)/,
    profile('peer'),
    'peer',
  )}`;
  const signer = { serial: keys.publicKeyId, privateKey: crypto.createPrivateKey(keys.platformPrivateKeyPem) };
  const notification = (o: { outTradeNo: string; total: number }, i: number) =>
    buildNotification({
      apiV3Key: keys.apiV3Key,
      signer,
      transaction: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: o.outTradeNo,
        transaction_id: `4200000000${String(i).padStart(18, '0')}`,
        trade_state: 'SUCCESS',
        amount: { total: o.total, currency: 'CNY' },
      },
    });
  // Issue 9: 2,000 junk notify POSTs (4 KB headers) at ~1,000/s from a process of their own, while this
  // process probes the shop's GET /api/products one request at a time: p99 during against p99 idle.
  const probe = async (until: () => boolean, min: number) => {
    const out: number[] = [];
    while (out.length < min || !until()) {
      const t0 = performance.now();
      await (await fetch(`${api}/api/products`)).arrayBuffer();
      out.push(performance.now() - t0);
    }
    return out;
  };
  const pct = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
  const junkFlood = async () => {
    await probe(() => true, 200); // warm up
    const idle = await probe(() => true, 1000);
    let flooding = true;
    const flood = spawn(process.execPath, ['--import', 'tsx', 'bench/junk-flood.ts', api, '2000', '1000'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let floodOut = '';
    flood.stdout!.on('data', (d) => {
      floodOut += d;
    });
    const floodDone = new Promise<void>((resolve) =>
      flood.on('exit', () => {
        flooding = false;
        resolve();
      }),
    );
    await new Promise((r) => setTimeout(r, 700)); // the flood's process is up and sending
    const during = await probe(() => !flooding, 0);
    await floodDone;
    return {
      ...(JSON.parse(floodOut.trim().split('\n').pop() ?? '{}') as { sent: number; rate: number; non2xx: number }),
      p99IdleMs: pct(idle, 99),
      p99DuringMs: pct(during, 99),
      p50IdleMs: pct(idle, 50),
      p50DuringMs: pct(during, 50),
      samplesDuring: during.length,
    };
  };
  const junk = want('junk') ? await junkFlood() : null;

  const stats = async () =>
    (await json(`${api}/api/admin/stats`, { headers: { Authorization: `Bearer ${adminToken}` } })).store as {
      commits: number;
      writes: number;
      syncs: number;
      syncMs: number;
    };
  /** The server's Prometheus text (one process's: see oneProcess). */
  const metricsText = async () => (await fetch(`${api}/metrics`, { headers: { Authorization: `Bearer ${adminToken}` } })).text();

  // The pending orders: the first half paid at full rate, the second at half of it.
  const half = Math.floor(ORDERS / 2);

  // Signed and encrypted before the load starts: signing is WeChat's work, and here it would take a
  // third of a core from the two that the server and the load generator share.
  const signed = want('notify') ? pending.map((o, i) => notification(o, i)) : [];
  // Notifications, 64 at a time, each paying a distinct pending order (the first half of them).
  const notifyRequest = () => {
    let next = 0;
    return {
      method: 'POST' as const,
      path: '/api/wechatpay/notify',
      setupRequest: (req: any) => {
        const d = signed[next++]!;
        return { ...req, body: d.body, headers: d.headers };
      },
    };
  };
  let peerNotify: Load | null = null;
  let notify: Load | null = null;
  let relaxed: Load | null = null;
  let inServer: { within10ms: number; within25ms: number } | null = null;
  let perCommit = 0;
  let perSync = 0;
  let syncMean = 0;
  if (want('notify')) {
    barePostBeforeNotify = await barePostLoad();
    const before = oneProcess ? await stats() : null;
    notify = await load({ url: api, connections: 64, amount: half, requests: [notifyRequest()] });
    if (before) {
      const after = await stats();
      perCommit = half / Math.max(1, after.commits - before.commits);
      perSync = half / Math.max(1, after.syncs - before.syncs);
      syncMean = (after.syncMs - before.syncMs) / Math.max(1, after.syncs - before.syncs);
    }
    // The server's own view of the same requests (its latency histogram for the notify route): how much
    // of the tail is inside the server rather than in the sender or the kernel.
    const answered = async () => {
      const lines = (await metricsText())
        .split('\n')
        .filter(
          (l) =>
            l.startsWith('http_request_duration_seconds_bucket{') &&
            l.includes('route="/api/wechatpay/notify/"') &&
            l.includes('status="204"'),
        );
      return new Map(lines.map((l) => [/le="([^"]+)"/.exec(l)![1]!, Number(l.split(' ').pop())]));
    };
    const a0 = oneProcess ? await answered() : null;
    // p99 at half that rate, on the other half of the orders.
    // The peer pays the same orders in its own database, with the same signed notifications.
    peerNotify = await load({ url: peer, connections: 64, amount: half, requests: [notifyRequest()] });
    relaxed = await paced(api, {
      rate: Math.max(1, notify.rate / 2),
      count: ORDERS - half,
      connections: 64,
      request: (i) => ({ path: '/api/wechatpay/notify', ...signed[half + i]! }),
    });
    if (a0) {
      const a1 = await answered();
      const share = (le: string) => ((a1.get(le) ?? 0) - (a0.get(le) ?? 0)) / Math.max(1, (a1.get('+Inf') ?? 0) - (a0.get('+Inf') ?? 0));
      inServer = { within10ms: share('0.01'), within25ms: share('0.025') };
    }
  }

  // Checkout: price, save, signed JSAPI call and verified answer, paySign.
  const codes = await Promise.all(
    Array.from(
      { length: 32 },
      async (_, i) =>
        (
          await json(`${credentials.SANDBOX_URL}/sandbox/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ user: `bench-${i}` }),
          })
        ).code,
    ),
  );
  const tokens = await Promise.all(
    codes.map(
      async (code) =>
        (
          await json(`${api}/api/auth/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ code }),
          })
        ).token as string,
    ),
  );
  const peerTokens = await Promise.all(
    Array.from({ length: 32 }, async (_, i) => {
      const { code } = await json(`${credentials.SANDBOX_URL}/sandbox/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: `bench-${i}` }),
      });
      return (
        await json(`${peer}/api/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code }),
        })
      ).token as string;
    }),
  );
  const checkoutRequestFor = (tokens: string[]) => {
    let t = 0;
    return {
      method: 'POST' as const,
      path: '/api/orders',
      setupRequest: (req: any) => ({
        ...req,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens[t++ % tokens.length]}` },
        body: JSON.stringify({ items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] }),
      }),
    };
  };

  // Where a request waits: the mean of the server's own latency histograms (Prometheus text), over a scenario.
  const means = async () => {
    const sums = new Map<string, { sum: number; count: number }>();
    if (!want('checkout') || !oneProcess) return sums;
    const text = await metricsText();
    for (const m of text.matchAll(/^(wechatpay_call_duration_seconds|store_write_duration_seconds)_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
      const key = `${m[1] === 'store_write_duration_seconds' ? 'store write' : 'WeChat Pay call'} ${/(?:op|operation)="([^"]+)"/.exec(m[3]!)?.[1]}`;
      const e = sums.get(key) ?? { sum: 0, count: 0 };
      e[m[2] as 'sum' | 'count'] += Number(m[4]);
      sums.set(key, e);
    }
    return sums;
  };
  const waits = (before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>) =>
    Object.fromEntries(
      [...after]
        .map(([k, a]) => [k, a.count - (before.get(k)?.count ?? 0), a.sum - (before.get(k)?.sum ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .map(([k, n, s]) => [k, { calls: n, meanMs: Number(((s / n) * 1000).toFixed(2)) }]),
    );
  const m0 = await means();
  const checkout8 = want('checkout')
    ? await load({ url: api, connections: 8, duration: SECONDS, requests: [checkoutRequestFor(tokens)] })
    : null;
  const m1 = await means();
  const checkout32 = want('checkout')
    ? await load({ url: api, connections: 32, duration: SECONDS, requests: [checkoutRequestFor(tokens)] })
    : null;
  const m2 = await means();
  const peerCheckout8 = want('checkout')
    ? await load({ url: peer, connections: 8, duration: SECONDS, requests: [checkoutRequestFor(peerTokens)] })
    : null;
  const peerCheckout32 = want('checkout')
    ? await load({ url: peer, connections: 32, duration: SECONDS, requests: [checkoutRequestFor(peerTokens)] })
    : null;
  if (checkout8 && checkout32 && oneProcess) {
    console.log('Checkout, 8 concurrent, waits inside the server:', JSON.stringify(waits(m0, m1)));
    console.log('Checkout, 32 concurrent, waits inside the server:', JSON.stringify(waits(m1, m2)));
  }

  // Order reads of a paid order (no WeChat call): the API's bread and butter.
  const created = await json(`${api}/api/orders`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens[0]}` },
    body: JSON.stringify({ items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] }),
  });
  if (want('reads')) bareGetBeforeReads = await bareGetLoad();
  const reads = !want('reads')
    ? null
    : await load({
        url: `${api}/api/orders/${created.order.id}`,
        connections: 32,
        duration: SECONDS,
        headers: { Authorization: `Bearer ${tokens[0]}` },
      });
  const peerCreated = await json(`${peer}/api/orders`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${peerTokens[0]}` },
    body: JSON.stringify({ items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] }),
  });
  const peerReads = !want('reads')
    ? null
    : await load({
        url: `${peer}/api/orders/${peerCreated.order.id}`,
        connections: 32,
        duration: SECONDS,
        headers: { Authorization: `Bearer ${peerTokens[0]}` },
      });

  // The H5 client as served: what crosses the wire before the shop is usable (brotli).
  const h5 = path.join(root, 'dist/h5');
  let h5Bytes: number | null = null;
  if (fs.existsSync(path.join(h5, 'index.html'))) {
    const html = fs.readFileSync(path.join(h5, 'index.html'));
    const refs = [...html.toString().matchAll(/(?:src|href)="\/?((?:js|css)\/[^"]+)"/g)].map((m) => m[1]!);
    const pages = fs.readdirSync(path.join(h5, 'js')).filter((f) => f.endsWith('.js') && !refs.includes(`js/${f}`));
    const size = (rel: string) => {
      const f = path.join(h5, rel);
      return fs.existsSync(`${f}.br`) ? fs.statSync(`${f}.br`).size : fs.statSync(f).size;
    };
    // Upper bound: the entry, everything it references, and every lazily loaded chunk.
    h5Bytes = html.length + refs.reduce((n, r) => n + size(r), 0) + pages.reduce((n, f) => n + size(`js/${f}`), 0);
  }
  const weapp = path.join(root, 'dist/weapp');
  const dirBytes = (d: string): number =>
    fs
      .readdirSync(d, { withFileTypes: true })
      .reduce((n, e) => n + (e.isDirectory() ? dirBytes(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0);
  const weappBytes = fs.existsSync(weapp) ? dirBytes(weapp) : null;

  const checkoutCeiling = 1 / (2 / signRate + 1 / verifyRate);
  const rows: [string, string, string, string][] = [];
  const row = (name: string, l: Load | null, ceiling: number, ceilingName: string) =>
    l &&
    rows.push([
      name,
      `${l.rate.toFixed(0)}/s (p50 ${l.p50} ms, p99 ${l.p99} ms${l.non2xx || l.errors ? `, ${l.non2xx} non-2xx, ${l.errors} errors` : ''}; cores: ${Object.entries(
        l.cores,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
      `${ceilingName} ${ceiling.toFixed(0)}/s`,
      (l.rate / ceiling).toFixed(2),
    ]);
  row('POST /api/wechatpay/notify, 64 concurrent', notify, barePostBeforeNotify.rate, 'bare Express (POST, 64), just before');
  row('POST /api/orders, 8 concurrent', checkout8, checkoutCeiling, 'RSA, one core (2 signs + 1 verify)');
  row('POST /api/orders, 32 concurrent', checkout32, checkoutCeiling, 'RSA, one core (2 signs + 1 verify)');
  row('GET /api/orders/:id, 32 concurrent', reads, bareGetBeforeReads.rate, 'bare Express (GET, 32), just before');
  results.scenarios = {
    notify64: notify &&
      relaxed && {
        ...notify,
        ratioToBareExpress: notify.rate / barePostBeforeNotify.rate,
        bareExpressJustBefore: barePostBeforeNotify.rate,
        notificationsPerCommit: oneProcess ? perCommit : null,
        notificationsPerSync: oneProcess ? perSync : null,
        meanSyncMs: oneProcess ? syncMean : null,
        workers: WORKERS,
        ratioToSingleCommitRate: notify.rate / commitRate,
        p99AtHalfRate: relaxed.p99,
        halfRate: relaxed.rate,
        halfRateAnsweredByServer: inServer,
      },
    checkout8: checkout8 && { ...checkout8, ratioToRsaCeiling: checkout8.rate / checkoutCeiling },
    checkout32: checkout32 && { ...checkout32, ratioToRsaCeiling: checkout32.rate / checkoutCeiling },
    reads32: reads && {
      ...reads,
      ratioToBareExpress: reads.rate / bareGetBeforeReads.rate,
      bareExpressJustBefore: bareGetBeforeReads.rate,
    },
    junkFlood: junk && { ...junk, p99Ratio: junk.p99DuringMs / junk.p99IdleMs },
    h5InitialBytesBrotli: h5Bytes,
    weappBytes,
  };

  console.log(
    `\nCeilings on this machine, now: RSA-2048 sign ${signRate.toFixed(0)}/s, verify ${verifyRate.toFixed(0)}/s (one core); SQLite single-row commits at synchronous=FULL ${commitRate.toFixed(0)}/s; bare Express GET ${bareGet.rate.toFixed(0)}/s (32, bare process at ${bareGet.cores.bare} cores), POST ${barePost.rate.toFixed(0)}/s (64, ${barePost.cores.bare} cores)\n`,
  );
  console.log('| Scenario | Measured | Ceiling | Ratio |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);

  // Side by side with the peer: answers per second, and CPU per answer of the shop and the sandbox together
  // (the load generator left out: it is the same on both sides).
  const cpuPerAnswer = (l: Load, shop: 'server' | 'peer') => (((l.cores[shop] ?? 0) + (l.cores.sandbox ?? 0)) / Math.max(1, l.rate)) * 1e6;
  const versus: Record<string, unknown> = {};
  const pairs: [string, Load | null, Load | null, number][] = [
    ['checkout, 8 concurrent', checkout8, peerCheckout8, 1.5],
    ['checkout, 32 concurrent', checkout32, peerCheckout32, 1.5],
    ['notify, 64 concurrent', notify, peerNotify, 1.5],
    ['order reads, 32 concurrent', reads, peerReads, 0.8],
  ];
  console.log(
    '\n| Path | project/s | peer/s | project ÷ peer (target) | CPU µs per answer, project vs peer (sandbox included) |\n|---|---|---|---|---|',
  );
  for (const [name, mine, theirs, target] of pairs) {
    if (!mine || !theirs) continue;
    const ratio = mine.rate / theirs.rate;
    const cpu = [cpuPerAnswer(mine, 'server'), cpuPerAnswer(theirs, 'peer')];
    versus[name] = {
      project: mine.rate,
      peer: theirs.rate,
      ratio,
      target,
      cpuMicrosPerAnswer: { project: cpu[0], peer: cpu[1] },
      peerLoad: theirs,
    };
    const bad = mine.non2xx + mine.errors + theirs.non2xx + theirs.errors;
    console.log(
      `| ${name} | ${mine.rate.toFixed(0)} (p99 ${mine.p99} ms) | ${theirs.rate.toFixed(0)} (p99 ${theirs.p99} ms) | **${ratio.toFixed(2)}** (≥ ${target}${ratio >= target ? ', met' : ', not met'}) | ${cpu[0]!.toFixed(0)} vs ${cpu[1]!.toFixed(0)}${bad ? ` (${bad} non-2xx or errors)` : ''} |`,
    );
  }
  results.peer = versus;
  if (notify && relaxed) {
    const batching = oneProcess
      ? `${perCommit.toFixed(1)} per commit, ${perSync.toFixed(1)} per WAL sync (fdatasync, ${syncMean.toFixed(1)} ms each)`
      : `per commit and per sync not measured in a cluster (each worker counts its own)`;
    const inside = inServer
      ? `; the server's own histogram: ${(inServer.within10ms * 100).toFixed(1)} % answered within 10 ms, ${(inServer.within25ms * 100).toFixed(2)} % within 25 ms`
      : '';
    console.log(
      `\nNotifications: ${batching}; ${(notify.rate / commitRate).toFixed(1)}× the single-commit rate; at half the rate (${relaxed.rate.toFixed(0)}/s, paced): p50 ${relaxed.p50} ms, p99 ${relaxed.p99} ms${relaxed.non2xx || relaxed.errors ? ` (${relaxed.non2xx} non-2xx, ${relaxed.errors} errors)` : ''}${inside}.`,
    );
  }
  if (junk)
    console.log(
      `Junk flood (issue 9): ${junk.sent} refused notify POSTs at ${junk.rate.toFixed(0)}/s from another process; GET /api/products p99 ${junk.p99IdleMs.toFixed(1)} ms idle → ${junk.p99DuringMs.toFixed(1)} ms during (${(junk.p99DuringMs / junk.p99IdleMs).toFixed(1)}×, target ≤ 2×; p50 ${junk.p50IdleMs.toFixed(1)} → ${junk.p50DuringMs.toFixed(1)} ms, ${junk.samplesDuring} samples).`,
    );
  if (h5Bytes !== null)
    console.log(
      `H5: ${(h5Bytes / 1024).toFixed(0)} KB (brotli) at most before the shop is usable (entry, its references and every lazy chunk).`,
    );
  if (weappBytes !== null) console.log(`weapp: ${(weappBytes / 1024).toFixed(0)} KB in dist/weapp.`);
  if (!ONLY) fs.writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (!ONLY) console.log('\nWritten to bench/results.json');
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once('exit', resolve).kill('SIGTERM')) : undefined)),
    );
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
