// Fakes at the boundaries we do not own, for the fast tier: a payment provider, a login provider and a
// shipping provider that keep their own books in memory, a clock the test moves, and a logger that
// keeps its lines. They speak the domain's ports only; the WeChat protocol is tested elsewhere (the
// sandbox, over real sockets). Each fake can be told to fail the way the real one does.
import crypto from 'node:crypto';
import type { CheckoutDeps } from '../../src/domain/deps';
import type { FulfilmentDeps } from '../../src/domain/fulfilment';
import { IdentityProviderError, type IdentityProvider } from '../../src/domain/ports/identity-provider';
import type { LogFields, Logger } from '../../src/domain/ports/logger';
import {
  type BillEntry,
  type IncomingNotification,
  type NotificationParse,
  type PaymentFailure,
  PaymentProviderError,
  type PaymentProvider,
  type PaymentStatus,
  type PaymentSucceeded,
  type PaymentTerms,
  type ProviderNotification,
  type ProviderRefundStatus,
  type RefundReport,
  type RefundRequest,
} from '../../src/domain/ports/payment-provider';
import {
  ShippingProviderError,
  type ShipmentUpload,
  type ShippingProvider,
  type WechatFulfilment,
} from '../../src/domain/ports/shipping-provider';
import { createRefusalLog } from '../../src/domain/refusals';
import { beijingDate } from '../../src/domain/book-day';
import {
  type ComplaintProvider,
  ComplaintProviderError,
  type ComplaintRef,
  type ProviderComplaint,
} from '../../src/domain/ports/complaint-provider';
import type { User } from '../../src/domain/user';
import { createMemoryStore, type MemoryStore } from './memory-store';

/** A clock the test moves; sleeping moves it too, so waits take no real time. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
  sleep(ms: number): Promise<void>;
}

export function testClock(start = Date.UTC(2026, 11, 1, 4, 0, 0)): TestClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    sleep: async (ms) => {
      t += ms;
      await Promise.resolve();
    },
  };
}

export interface TestLogger extends Logger {
  lines: { level: string; message: string; fields: LogFields }[];
  /** The messages logged at `level`. */
  at(level: string): string[];
}

export function testLogger(): TestLogger {
  const lines: TestLogger['lines'] = [];
  const log = (level: string) => (fields: LogFields, message: string) => void lines.push({ level, message, fields });
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
  };
}

type Trade = {
  terms: PaymentTerms;
  request: string;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED';
  transactionId: string | null;
  paidAt: number | null;
};
type ProviderCall = 'prepare' | 'query' | 'close' | 'refund' | 'queryRefund' | 'refreshKeys';

/** The payment provider's books in memory: prepay ids, trades, refunds; and what the shop asked of it. */
export interface FakePaymentProvider extends PaymentProvider {
  trades: Map<string, Trade>;
  refunds: Map<string, RefundReport & { request: RefundRequest }>;
  calls: { call: ProviderCall; reference: string }[];
  /** The shopper pays the attempt (as the payment sheet would); returns the provider's event. */
  pay(reference: string, over?: Partial<PaymentSucceeded>): PaymentSucceeded;
  /** A notification as the provider would deliver it, with a valid signature unless `forged`. */
  /** `key` names the signing key (default `k1`, held from the start); another must be published, then fetched. */
  notification(n: ProviderNotification, o?: { forged?: boolean; key?: string }): IncomingNotification;
  /** Keys the provider lists (refreshKeys fetches them) and keys the adapter holds. */
  publishedKeys: Set<string>;
  heldKeys: Set<string>;
  /** The next `times` calls of `call` fail with `failure`. */
  failNext(call: ProviderCall, failure: PaymentFailure, times?: number): void;
  /** How refunds end when they are asked for: at once, or left PROCESSING. */
  refundsEnd: ProviderRefundStatus;
  /** A day's bill as the test wants it; absent, built from the trades paid that day and every refund. */
  bills: Map<string, BillEntry[] | 'NONE' | 'NOT_READY'>;
}

const SECRET = 'fake-provider-signing-secret';
const signatureOf = (body: Buffer) => crypto.createHmac('sha256', SECRET).update(body).digest('hex');

export function fakePaymentProvider(
  clock: { now(): number },
  payee = { appId: 'wxfake0000000000aa', merchantId: '1900000109' },
): FakePaymentProvider {
  let seq = 0;
  const trades = new Map<string, Trade>();
  const refunds = new Map<string, RefundReport & { request: RefundRequest }>();
  const calls: FakePaymentProvider['calls'] = [];
  const failures: { call: ProviderCall; failure: PaymentFailure; times: number }[] = [];
  const fail = (call: ProviderCall, reference: string) => {
    calls.push({ call, reference });
    const f = failures.find((x) => x.call === call && x.times > 0);
    if (!f) return;
    f.times -= 1;
    throw new PaymentProviderError(f.failure, `fake ${call} failed: ${f.failure}`, `FAKE_${f.failure}`);
  };
  const succeeded = (reference: string, t: Trade): PaymentSucceeded => ({
    reference,
    transactionId: t.transactionId!,
    payee,
    amount: t.terms.amount,
    currency: 'CNY',
    paidAt: t.paidAt!,
  });
  const provider: FakePaymentProvider = {
    payee,
    trades,
    refunds,
    calls,
    refundsEnd: 'SUCCESS',
    bills: new Map(),
    async dayBill(date) {
      const set = provider.bills.get(date);
      if (set === 'NONE') return { state: 'NONE' };
      if (set === 'NOT_READY') return { state: 'NOT_READY', detail: 'fake: not generated yet' };
      const entries: BillEntry[] = set ?? [
        ...[...trades]
          .filter(([, t]) => t.state === 'SUCCESS' && beijingDate(t.paidAt!) === date)
          .map(
            ([reference, t]): BillEntry => ({
              kind: 'PAYMENT',
              reference,
              transactionId: t.transactionId!,
              amount: t.terms.amount,
              fee: 0,
            }),
          ),
        ...[...refunds.values()].map(
          (r): BillEntry => ({
            kind: 'REFUND',
            reference: r.request.reference,
            transactionId: r.request.transactionId,
            outRefundNo: r.outRefundNo,
            providerRefundId: r.providerRefundId ?? '',
            amount: r.amount,
            state: r.status === 'SUCCESS' || r.status === 'PROCESSING' ? 'ACCEPTED' : 'FAILED',
            providerStatus: r.status,
            fee: 0,
          }),
        ),
      ];
      let payments = 0;
      let refunded = 0;
      for (const e of entries)
        if (e.kind === 'PAYMENT') payments += e.amount;
        else refunded += e.amount;
      return {
        state: 'READY',
        entries: (async function* () {
          yield* entries;
        })(),
        totals: () => ({ payments, refunds: refunded, fees: 0 }),
      };
    },
    newReference: () => `T${(++seq).toString().padStart(10, '0')}`,
    newRefundReference: () => `R${(++seq).toString().padStart(10, '0')}`,
    requestFor: (terms) => JSON.stringify(terms),
    async prepare(request) {
      const terms = JSON.parse(request) as PaymentTerms;
      fail('prepare', terms.reference);
      const known = trades.get(terms.reference);
      if (known?.state === 'SUCCESS') throw new PaymentProviderError('ALREADY_PAID', 'paid', 'ORDERPAID');
      if (known && (known.state === 'CLOSED' || known.request !== request))
        throw new PaymentProviderError('REFERENCE_UNUSABLE', 'reference used', 'OUT_TRADE_NO_USED');
      if (!known) trades.set(terms.reference, { terms, request, state: 'NOTPAY', transactionId: null, paidAt: null });
      return { prepayId: `prepay_${terms.reference}_${++seq}` };
    },
    async sheetParams(prepayId, now) {
      return {
        timeStamp: String(Math.floor(now / 1000)),
        nonceStr: 'n'.repeat(32),
        package: `prepay_id=${prepayId}`,
        signType: 'RSA',
        paySign: signatureOf(Buffer.from(prepayId)),
      };
    },
    async query(reference): Promise<PaymentStatus | null> {
      fail('query', reference);
      const t = trades.get(reference);
      if (!t) return null;
      if (t.state === 'SUCCESS') return { state: 'SUCCEEDED', payment: succeeded(reference, t) };
      if (t.state === 'CLOSED' || t.terms.expiresAt <= clock.now()) return { state: 'ENDED', detail: 'CLOSED' };
      return { state: 'PENDING' };
    },
    async close(reference) {
      fail('close', reference);
      const t = trades.get(reference);
      if (t?.state === 'SUCCESS') throw new PaymentProviderError('ALREADY_PAID', 'paid', 'ORDERPAID');
      if (t) t.state = 'CLOSED';
    },
    async refund(r) {
      fail('refund', r.outRefundNo);
      const known = refunds.get(r.outRefundNo);
      if (known) return known;
      const report = {
        outRefundNo: r.outRefundNo,
        providerRefundId: `50${++seq}`,
        status: provider.refundsEnd,
        amount: r.amount,
        reference: r.reference,
        merchantId: payee.merchantId,
        settledAt: provider.refundsEnd === 'SUCCESS' ? clock.now() : null,
        request: r,
      };
      refunds.set(r.outRefundNo, report);
      return report;
    },
    async queryRefund(outRefundNo) {
      fail('queryRefund', outRefundNo);
      return refunds.get(outRefundNo) ?? null;
    },
    publishedKeys: new Set(['k1']),
    heldKeys: new Set(['k1']),
    async refreshKeys(key) {
      calls.push({ call: 'refreshKeys', reference: key });
      if (provider.publishedKeys.has(key)) provider.heldKeys.add(key);
      return provider.heldKeys.has(key);
    },
    parseNotification(input): NotificationParse {
      const key = input.headers['x-fake-key'] ?? 'k1';
      if (!provider.heldKeys.has(key))
        return { ok: false, refusal: { reason: 'UNKNOWN_KEY', message: `no key ${key}`, unauthentic: true, unknownKey: key } };
      if (input.headers['x-fake-signature'] !== signatureOf(input.body))
        return { ok: false, refusal: { reason: 'BAD_SIGNATURE', message: 'signature does not match', unauthentic: true } };
      try {
        return { ok: true, notification: JSON.parse(input.body.toString('utf8')) as ProviderNotification };
      } catch {
        return { ok: false, refusal: { reason: 'MALFORMED', message: 'not JSON', unauthentic: false } };
      }
    },
    answerNotification: ({ accepted, status, message }) => ({
      status,
      contentType: accepted ? null : 'text/plain',
      body: accepted ? '' : message,
    }),
    pay(reference, over = {}) {
      const t = trades.get(reference);
      if (!t) throw new Error(`fake provider: no trade ${reference}`);
      t.state = 'SUCCESS';
      t.transactionId = `4200${(++seq).toString().padStart(24, '0')}`;
      t.paidAt = clock.now();
      return { ...succeeded(reference, t), ...over };
    },
    notification(n, o = {}) {
      const body = Buffer.from(JSON.stringify(n));
      return {
        headers: {
          'x-fake-signature': o.forged ? signatureOf(Buffer.from('other')) : signatureOf(body),
          'request-id': `req-${n.id}`,
          ...(o.key ? { 'x-fake-key': o.key } : {}),
        },
        body,
      };
    },
    failNext(call, failure, times = 1) {
      failures.push({ call, failure, times });
    },
  };
  return provider;
}

/** Login codes the fake hands out, each for one shopper, usable once. */
export interface FakeIdentity extends IdentityProvider {
  codeFor(openid: string): string;
  failNext(failure: 'CODE_INVALID' | 'BUSY' | 'UNAVAILABLE'): void;
}

export function fakeIdentity(): FakeIdentity {
  const codes = new Map<string, string>();
  let failing: 'CODE_INVALID' | 'BUSY' | 'UNAVAILABLE' | null = null;
  return {
    codeFor(openid) {
      const code = crypto.randomBytes(8).toString('hex');
      codes.set(code, openid);
      return code;
    },
    failNext(f) {
      failing = f;
    },
    async exchange(code) {
      if (failing) {
        const f = failing;
        failing = null;
        throw new IdentityProviderError(f, `fake login failed: ${f}`, f === 'BUSY' ? -1 : 40029);
      }
      const openid = codes.get(code);
      codes.delete(code);
      if (!openid) throw new IdentityProviderError('CODE_INVALID', 'invalid code', 40029);
      return { openid, unionid: null, sessionKey: crypto.randomBytes(16).toString('base64') };
    },
  };
}

/** WeChat's shipping-info management in memory: what was uploaded, where each order is. */
export interface FakeShipping extends ShippingProvider {
  uploads: ShipmentUpload[];
  states: Map<string, { state: WechatFulfilment; wechatState: number }>;
  /** The next `times` uploads fail with this errcode (retryable when -1). */
  failUploads(errcode: number, times?: number): void;
  /** Holds uploads until released (an upload in flight); `arrived` resolves when the first held upload reaches WeChat. */
  holdUploads(): { release: () => void; arrived: Promise<void> };
}

export function fakeShipping(): FakeShipping {
  const uploads: ShipmentUpload[] = [];
  const states = new Map<string, { state: WechatFulfilment; wechatState: number }>();
  let failure: { errcode: number; times: number } | null = null;
  let hold: Promise<void> | null = null;
  let arrive: (() => void) | null = null;
  return {
    uploads,
    states,
    failUploads(errcode, times = 1) {
      failure = { errcode, times };
    },
    holdUploads() {
      let release!: () => void;
      hold = new Promise((r) => {
        release = r;
      });
      const arrived = new Promise<void>((r) => {
        arrive = r;
      });
      return {
        arrived,
        release: () => {
          hold = null;
          release();
        },
      };
    },
    async upload(u) {
      if (hold) {
        arrive?.();
        await hold;
      }
      if (failure && failure.times > 0) {
        failure.times -= 1;
        const retryable = failure.errcode === -1;
        throw new ShippingProviderError(
          failure.errcode,
          `fake upload failed: ${failure.errcode}`,
          retryable,
          retryable ? null : 'fix the shipment',
        );
      }
      uploads.push(structuredClone(u));
      const status = { state: 'SHIPPED' as const, wechatState: 2 };
      states.set(u.outTradeNo, status);
      return status;
    },
    async status(outTradeNo) {
      return states.get(outTradeNo) ?? null;
    },
    async carriers() {
      return [
        { id: 'SF', name: '顺丰速运' },
        { id: 'YD', name: '韵达快递' },
      ];
    },
    readPush: (m) =>
      m.Event === 'order moved'
        ? {
            kind: 'ORDER_MOVED',
            outTradeNo: String(m.outTradeNo),
            state: m.state as WechatFulfilment,
            wechatState: Number(m.wechatState),
            at: Number(m.at),
          }
        : { kind: 'OTHER', event: String(m.Event) },
    async setJumpPath() {},
  };
}

/** The use cases' deps over the memory store and the fakes, as the composition root builds them over real ones. */
export interface FastSystem {
  store: MemoryStore;
  clock: TestClock;
  logger: TestLogger;
  provider: FakePaymentProvider;
  identity: FakeIdentity;
  shipping: FakeShipping;
  checkout: CheckoutDeps;
  fulfilment: FulfilmentDeps;
  notify: CheckoutDeps & { refusals: ReturnType<typeof createRefusalLog> };
  auth: {
    store: MemoryStore;
    identity: FakeIdentity;
    now: () => number;
    sessionTtlMs: number;
    sealer: { seal(s: string): string; open(s: string): string };
  };
  /** A shopper in the store. */
  shopper(openid?: string): Promise<User>;
}

export async function fastSystem(): Promise<FastSystem> {
  const store = createMemoryStore();
  const { SEED_PRODUCTS } = await import('../../src/domain/catalog');
  await store.seedProducts(SEED_PRODUCTS);
  const clock = testClock();
  const logger = testLogger();
  const provider = fakePaymentProvider(clock);
  const identity = fakeIdentity();
  const shipping = fakeShipping();
  const now = () => clock.now();
  const checkout: CheckoutDeps = {
    store,
    provider,
    now,
    logger,
    payWindowMs: 30 * 60_000,
    queryThrottleMs: 1000,
    queryThrottle: new Map(),
    leaseMs: 35_000,
    mayQueryProvider: async () => true,
    sleep: clock.sleep,
  };
  const sealer = {
    seal: (s: string) => `sealed:${Buffer.from(s).toString('base64')}`,
    open: (s: string) => Buffer.from(s.slice(7), 'base64').toString(),
  };
  return {
    store,
    clock,
    logger,
    provider,
    identity,
    shipping,
    checkout,
    fulfilment: { store, shipping, now, logger, contactPhone: '13800138000', merchantId: provider.payee.merchantId },
    notify: { ...checkout, refusals: createRefusalLog({ store, logger, now }) },
    auth: { store, identity, now, sessionTtlMs: 72 * 3600_000, sealer },
    shopper: (openid = `o${crypto.randomBytes(6).toString('hex')}`) =>
      store.upsertUser({ openid, unionid: null, sessionKey: sealer.seal('k'), now: clock.now() }),
  };
}

/** WeChat's complaint systems in memory: complaints as the provider holds them, and what the shop asked of it. */
export interface FakeComplaints extends ComplaintProvider {
  held: Map<string, ProviderComplaint>;
  calls: string[];
  url: string | null;
  /** A shopper complains about a payment; returns the provider's complaint. */
  file(c: Partial<ProviderComplaint> & { outTradeNo: string }): ProviderComplaint;
}

export function fakeComplaints(clock: { now(): number }): FakeComplaints {
  const held = new Map<string, ProviderComplaint>();
  const calls: string[] = [];
  let seq = 0;
  const find = (ref: ComplaintRef) => {
    const c = held.get(`${ref.source}:${ref.id}`);
    if (!c) throw new ComplaintProviderError('no such complaint', 'RESOURCE_NOT_EXISTS', true);
    return c;
  };
  const fake: FakeComplaints = {
    held,
    calls,
    url: null,
    file(c) {
      const p: ProviderComplaint = {
        source: 'PAY',
        id: `c${++seq}`,
        transactionId: null,
        state: 'NEW',
        createdAt: clock.now(),
        deadline: null,
        problem: '申请退款',
        refundRequested: null,
        payerPhone: '13800138000',
        events: [{ at: clock.now(), actor: 'SHOPPER', kind: 'USER_CREATE_COMPLAINT', text: '申请退款' }],
        ...c,
      };
      held.set(`${p.source}:${p.id}`, p);
      return p;
    },
    async registerNotificationUrl(url) {
      calls.push('register');
      fake.url = url;
    },
    notificationUrl: async () => fake.url,
    parseNotification(input) {
      if (input.headers['x-fake-signature'] !== signatureOf(input.body))
        return { ok: false, refusal: { reason: 'BAD_SIGNATURE', message: 'signature does not match', unauthentic: true } };
      const n = JSON.parse(input.body.toString('utf8')) as { id: string; complaintId: string };
      return { ok: true, notificationId: n.id, ref: { source: 'PAY', id: n.complaintId } };
    },
    fetch: async (ref) => {
      calls.push(`fetch ${ref.id}`);
      const c = held.get(`${ref.source}:${ref.id}`);
      return c ? structuredClone(c) : null;
    },
    listRecent: async () => [...held.values()].filter((c) => c.source === 'PAY').map((c) => ({ source: c.source, id: c.id })),
    async reply(ref, text) {
      calls.push(`reply ${ref.id}`);
      const c = find(ref);
      if (c.state === 'RESOLVED') throw new ComplaintProviderError('already processed', 'INVALID_REQUEST', true);
      c.events.push({ at: clock.now(), actor: 'MERCHANT', kind: 'MERCHANT_RESPONSE', text });
      c.state = 'IN_PROGRESS';
    },
    async decideRefund(ref, d) {
      calls.push(`decide ${ref.id} ${d.approve}`);
      const c = find(ref);
      c.events.push({
        at: clock.now(),
        actor: 'MERCHANT',
        kind: d.approve ? 'MERCHANT_APPROVE_REFUND' : 'MERCHANT_REFUSE_RERUND',
        text: d.approve ? '' : d.reason,
      });
      c.state = d.approve ? 'IN_PROGRESS' : 'RESOLVED';
    },
    async complete(ref) {
      calls.push(`complete ${ref.id}`);
      find(ref).state = 'RESOLVED';
    },
  };
  return fake;
}

/** A complaint notification as the provider would deliver it (signed unless `forged`). */
export function complaintNotification(id: string, complaintId: string, o: { forged?: boolean } = {}): IncomingNotification {
  const body = Buffer.from(JSON.stringify({ id, complaintId }));
  return { headers: { 'x-fake-signature': o.forged ? signatureOf(Buffer.from('x')) : signatureOf(body) }, body };
}
