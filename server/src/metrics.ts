// What the server counts for Prometheus (prom-client): HTTP latency by route and status, notifications
// by outcome, order and refund transitions, WeChat Pay calls, reconciliation rounds, the store's write
// latency, and Node's own process metrics. One registry per server, so tests can run several.
// The counting is done at the seams (HTTP, the store port, the payment port): the domain knows nothing
// of it, and a transition is counted only when the store's conditional write says it happened.
import type { BookDay } from './domain/book-day';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import client from 'prom-client';
import type { PushMetric } from './http/messages';
import type { AdminAuthKind } from './http/admin-guard';
import { isStaticRequest } from './http/middleware';
import { droppedLogLines, LOG_BUFFER_BYTES } from './logger';
import type { ReconcileReport } from './domain/reconcile';
import { PaymentProviderError, type PaymentProvider } from './domain/ports/payment-provider';
import { STORE_METHODS, type Store } from './domain/ports/store';

/** What a notify-route answer tells the metrics middleware (set on `res.locals.notification`). */
export type NotificationMetric = { outcome: string } | { refused: string };

export interface Metrics {
  registry: client.Registry;
  /** HTTP latency by method, route pattern and status; reads `res.locals.notification` on the notify route. */
  http: RequestHandler;
  /** The store, its writes timed and its state transitions counted when they happen. */
  store(store: Store): Store;
  /** The payment provider, each call timed and its failures counted by code. */
  provider(provider: PaymentProvider): PaymentProvider;
  reconciled(report: ReconcileReport): void;
  /** A subscribe message's outcome: sent, given up (refused, bad data), or to retry. */
  messageSent(kind: string, outcome: 'sent' | 'given-up' | 'retry'): void;
  /** Where the open complaints come from: read at each scrape into complaints_open and complaints_oldest_open_age_seconds. */
  complaints(source: () => Promise<{ source: string; createdAt: number; deadline: number | null }[]>): void;
  /** Where the keys' expiry dates come from: read at each scrape into wechatpay_certificate_days_left. */
  certificates(source: () => { serial: string; kind: string; notAfter: number }[]): void;
  /** A day of the books reconciled: its status, and its discrepancies by kind. */
  booksReconciled(day: BookDay): void;
  /** A wrong admin token (`failure`) or an address answered 429 for too many (`limited`). */
  adminAuth(kind: AdminAuthKind, outcome: 'failure' | 'limited'): void;
}

/** Store methods that write, from the ports' own table: each is timed until its write is durable. */
const WRITES = new Set(Object.entries(STORE_METHODS).flatMap(([name, kind]) => (kind === 'write' ? [name] : [])));
const PROVIDER_CALLS = new Set(['prepare', 'sheetParams', 'query', 'close', 'refund', 'queryRefund', 'dayBill']);

type AsyncFn = (...a: unknown[]) => Promise<unknown>;

/**
 * `target` with the methods named in `names` wrapped by `wrap`, each function wrapped once (not on
 * every call). Keyed by the function itself: a method replaced on the target (as fault-injection tests
 * do) is wrapped afresh.
 */
function observe<T extends object>(target: T, names: ReadonlySet<string>, wrap: (target: T, prop: string, fn: AsyncFn) => AsyncFn): T {
  const wrapped = new WeakMap<AsyncFn, AsyncFn>();
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || !names.has(prop)) return value;
      let w = wrapped.get(value as AsyncFn);
      if (!w) {
        w = wrap(t, prop, value as AsyncFn);
        wrapped.set(value as AsyncFn, w);
      }
      return w;
    },
  });
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new client.Counter({
    name: 'log_lines_dropped_total',
    help: `Log lines dropped because their reader had stopped reading and ${LOG_BUFFER_BYTES / 2 ** 20} MiB of them were waiting`,
    registers,
    collect() {
      this.reset();
      this.inc(droppedLogLines());
    },
  });
  const httpDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status (static files excluded)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const subscribeMessages = new client.Counter({
    name: 'subscribe_messages_total',
    help: 'Subscribe messages to shoppers by kind (paid, shipped, refunded) and outcome (sent, given-up, retry)',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const complaintSources: (() => Promise<{ source: string; createdAt: number; deadline: number | null }[]>)[] = [];
  let openComplaints: Promise<{ source: string; createdAt: number; deadline: number | null }[]> | null = null;
  // One read per scrape, shared by the three gauges.
  const readOpen = () => {
    openComplaints ??= Promise.all(complaintSources.map((s) => s())).then((lists) => lists.flat());
    const p = openComplaints;
    void p.finally(() => {
      if (openComplaints === p) openComplaints = null;
    });
    return p;
  };
  new client.Gauge({
    name: 'complaints_open',
    help: 'Complaints open at WeChat (not yet resolved), by system (PAY, MINIPROGRAM)',
    labelNames: ['source'] as const,
    registers,
    async collect() {
      this.reset();
      for (const c of await readOpen()) this.inc({ source: c.source });
    },
  });
  new client.Gauge({
    name: 'complaints_overdue',
    help: 'Open complaints past their deadline',
    registers,
    async collect() {
      const now = Date.now();
      this.set((await readOpen()).filter((c) => c.deadline !== null && c.deadline < now).length);
    },
  });
  new client.Gauge({
    name: 'complaints_oldest_open_age_seconds',
    help: 'Age of the oldest open complaint (0 when none)',
    registers,
    async collect() {
      const open = await readOpen();
      this.set(open.length ? Math.floor((Date.now() - Math.min(...open.map((c) => c.createdAt))) / 1000) : 0);
    },
  });
  const keySources: (() => { serial: string; kind: string; notAfter: number }[])[] = [];
  new client.Gauge({
    name: 'wechatpay_certificate_days_left',
    help: 'Days until each WeChat Pay certificate expires (platform certificates held); alert below 30',
    labelNames: ['serial', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const source of keySources)
        for (const c of source()) this.set({ serial: c.serial, kind: c.kind }, Math.floor((c.notAfter - Date.now()) / 86_400_000));
    },
  });
  const booksDays = new client.Counter({
    name: 'books_days_reconciled_total',
    help: "Days reconciled against WeChat Pay's bill, by the day's status (BALANCED, REPAIRED, DISCREPANCIES)",
    labelNames: ['status'] as const,
    registers,
  });
  const booksDiscrepancies = new client.Counter({
    name: 'books_discrepancies_total',
    help: "Discrepancies found between our records and WeChat Pay's bill, by kind and whether our own repair settled them",
    labelNames: ['kind', 'repaired'] as const,
    registers,
  });
  const notifications = new client.Counter({
    name: 'wechatpay_notifications_total',
    help: 'Notification deliveries by recorded outcome (APPLIED, ALREADY_PAID, UNKNOWN_ORDER, AMOUNT_MISMATCH, …) or REFUSED',
    labelNames: ['outcome'] as const,
    registers,
  });
  const refused = new client.Counter({
    name: 'wechatpay_notifications_refused_total',
    help: 'Notification deliveries refused before anything was recorded, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const orders = new client.Counter({
    name: 'orders_transitions_total',
    help: 'Order state transitions: CREATED, PAID, CLOSED, FLAGGED (for review)',
    labelNames: ['to'] as const,
    registers,
  });
  const refunds = new client.Counter({
    name: 'refunds_transitions_total',
    help: 'Refund state transitions (REQUESTED, then the state each moved to)',
    labelNames: ['to'] as const,
    registers,
  });
  const pushes = new client.Counter({
    name: 'wechat_message_pushes_total',
    help: 'Message pushes (消息推送) by what they said (ORDER_MOVED, REMIND_SHIPPING, OTHER) or REFUSED',
    labelNames: ['outcome'] as const,
    registers,
  });
  const pushesRefused = new client.Counter({
    name: 'wechat_message_pushes_refused_total',
    help: 'Message pushes refused before anything changed, by reason (NOT_SAFE_MODE, MSG_SIGNATURE, STALE, REPLAY, …)',
    labelNames: ['reason'] as const,
    registers,
  });
  const adminFailures = new client.Counter({
    name: 'admin_auth_failures_total',
    help: 'Wrong admin tokens, by where they were tried (bearer: /api/admin and /metrics; sign-in: the ops page)',
    labelNames: ['kind'] as const,
    registers,
  });
  const adminLimited = new client.Counter({
    name: 'admin_auth_limited_total',
    help: 'Admin requests answered 429 because their address had tried too many wrong tokens this minute',
    labelNames: ['kind'] as const,
    registers,
  });
  const providerDuration = new client.Histogram({
    name: 'wechatpay_call_duration_seconds',
    help: 'Calls to WeChat Pay (or the sandbox) by operation and result',
    labelNames: ['operation', 'result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const providerErrors = new client.Counter({
    name: 'wechatpay_call_errors_total',
    help: "Failed calls to WeChat Pay by operation and WeChat's code (or the failure kind)",
    labelNames: ['operation', 'code'] as const,
    registers,
  });
  const rounds = new client.Counter({ name: 'reconcile_rounds_total', help: 'Reconciliation rounds run', registers });
  const found = new client.Counter({
    name: 'reconcile_found_total',
    help: 'What reconciliation rounds found and did: paid, closed, paidAfterClose, flagged, errors, refundsSettled, …',
    labelNames: ['kind'] as const,
    registers,
  });
  const writes = new client.Histogram({
    name: 'store_write_duration_seconds',
    help: "The store's writes, from the call until the write is durable (SQLite: its group commit's fsync)",
    labelNames: ['op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });

  // Each (method, route, status) series resolved once, then observed directly: prom-client hashes a label
  // object on every observation otherwise. Keyed by Express's route object (one per registered route).
  const byRoute = new WeakMap<object, Map<string, client.Histogram.Internal<'method' | 'route' | 'status'>>>();
  const unmatched = new Map<string, client.Histogram.Internal<'method' | 'route' | 'status'>>();
  const seriesOf = (req: Request, status: number) => {
    let series = req.route ? byRoute.get(req.route) : unmatched;
    if (!series) {
      series = new Map();
      byRoute.set(req.route, series);
    }
    const key = req.route ? `${req.method}${status}` : `${req.method}${status}${req.baseUrl}`;
    let s = series.get(key);
    if (!s) {
      // The route's pattern, never the raw path: ids would make a series per order.
      const route = req.route ? `${req.baseUrl}${typeof req.route.path === 'string' ? req.route.path : ''}` : req.baseUrl || 'unmatched';
      s = httpDuration.labels({ method: req.method, route, status: String(status) });
      series.set(key, s);
    }
    return s;
  };
  const http: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    if (isStaticRequest(req.method, req.path)) return next();
    const start = performance.now();
    res.once('finish', () => {
      seriesOf(req, res.statusCode).observe((performance.now() - start) / 1000);
      const n = res.locals.notification as NotificationMetric | undefined;
      if (n && 'refused' in n) {
        refused.inc({ reason: n.refused });
        notifications.inc({ outcome: 'REFUSED' });
      } else if (n) notifications.inc({ outcome: n.outcome });
      const p = res.locals.push as PushMetric | undefined;
      if (p && 'refused' in p) {
        pushesRefused.inc({ reason: p.refused });
        pushes.inc({ outcome: 'REFUSED' });
      } else if (p) pushes.inc({ outcome: p.kind });
    });
    next();
  };

  const transitions: Record<string, (args: unknown[], result: unknown) => void> = {
    insertOrder: () => orders.inc({ to: 'CREATED' }),
    markPaid: (_a, r) => r === true && orders.inc({ to: 'PAID' }),
    markClosed: (_a, r) => r === true && orders.inc({ to: 'CLOSED' }),
    flagForReview: (_a, r) => r === true && orders.inc({ to: 'FLAGGED' }),
    insertRefund: (_a, r) => r === true && refunds.inc({ to: 'REQUESTED' }),
    moveRefund: (a, r) => r === true && refunds.inc({ to: String(a[2]) }),
  };

  return {
    registry,
    http,
    store(store) {
      return observe(store, WRITES, (target, prop, fn) => async (...args: unknown[]) => {
        const end = writes.startTimer({ op: prop });
        const result = await fn.apply(target, args);
        end();
        transitions[prop]?.(args, result);
        return result;
      });
    },
    provider(provider) {
      return observe(provider, PROVIDER_CALLS, (target, prop, fn) => async (...args: unknown[]) => {
        const end = providerDuration.startTimer({ operation: prop });
        try {
          const result = await fn.apply(target, args);
          end({ result: 'ok' });
          return result;
        } catch (err) {
          end({ result: 'error' });
          const code = err instanceof PaymentProviderError ? (err.providerCode ?? err.failure) : 'INTERNAL';
          providerErrors.inc({ operation: prop, code });
          throw err;
        }
      });
    },
    adminAuth(kind, outcome) {
      (outcome === 'failure' ? adminFailures : adminLimited).inc({ kind });
    },
    messageSent(kind, outcome) {
      subscribeMessages.inc({ kind, outcome });
    },
    complaints(source) {
      complaintSources.push(source);
    },
    certificates(source) {
      keySources.push(source);
    },
    booksReconciled(day) {
      booksDays.inc({ status: day.status });
      for (const d of day.discrepancies) booksDiscrepancies.inc({ kind: d.kind, repaired: String(d.repaired) });
    },
    reconciled(report) {
      rounds.inc();
      const counts: Record<string, number> = {
        examined: report.examined,
        paid: report.paid,
        closed: report.closed,
        paidAfterClose: report.paidAfterClose,
        flagged: report.flagged,
        skipped: report.skipped,
        errors: report.errors,
        refundsExamined: report.refunds.examined,
        refundsSettled: report.refunds.settled,
        refundsResubmitted: report.refunds.resubmitted,
        refundErrors: report.refunds.errors,
        shipmentsUploaded: report.shipments.uploaded,
        shipmentsRefused: report.shipments.refused,
        shipmentsMoved: report.shipments.moved,
        shipmentErrors: report.shipments.errors,
      };
      for (const [kind, n] of Object.entries(counts)) if (n > 0) found.inc({ kind }, n);
    },
  };
}
