// What the sandbox remembers, in memory: users and login codes, JSAPI orders, prepay ids,
// transactions, the test switches. Every part of the sandbox works on one SandboxState.
import crypto from 'node:crypto';
import { randomNonce } from '../server/src/wechatpay/crypto';
import { beijingCompact, beijingTime } from '../server/src/wechatpay/time';
import type { SandboxKeys } from './keys';

export interface SandboxControls {
  /** Orders paid from now on whose notifications are never delivered (a count; Infinity, or `true` over HTTP, for all). */
  dropNotifications: number;
  /** Extra copies sent alongside each delivery, concurrently. */
  duplicateNotifications: number;
  /** Wait before the first delivery, in ms. */
  notificationDelayMs: number;
  /** Precede each order's first delivery with a WECHATPAY/SIGNTEST/ probe. */
  signtestProbes: boolean;
  /** Multiplies the retry schedule: 1 is real time, 0.001 turns 15 s into 15 ms. */
  timeScale: number;
  /** The next `times` JSAPI orders fail with this status and code. */
  failPrepay: { status: number; code: string; message: string; times: number } | null;
  /** Hang JSAPI order creation for this long (ms) before answering, to test timeouts. */
  prepayDelayMs: number;
  /** The next code2Session calls answer this errcode (e.g. -1 busy). */
  code2sessionErrcode: { errcode: number; times: number } | null;
  /** How WeChat signs notifications (and answers not asked for the public key): its public key, its current
   *  platform certificate, or the switch week — either one, the public key for `switchShare` of them. */
  signWith: 'publicKey' | 'certificate' | 'switch';
  /** In the switch week: the share of messages signed with the public key (WeChat ramps it 0.1 % → 100 %). */
  switchShare: number;
  /** Make the next certificate lists untrustworthy: signed by a stranger's key, or encrypted with another APIv3 key. */
  tamperCertificates: 'signature' | 'encryption' | null;
  /** How refunds end: SUCCESS by default; ABNORMAL (the card is gone) or CLOSED. */
  refundOutcome: 'success' | 'abnormal' | 'closed';
  /** How long a refund stays PROCESSING before it ends (ms). */
  refundDelayMs: number;
  /** Refunds from now on whose notifications are never delivered (a count; Infinity, or `true` over HTTP, for all). */
  dropRefundNotifications: number;
  /** Serve a day's bill at once, today's included, instead of from 10:00 the next day (sandbox time). */
  billsReadyNow: boolean;
  /** The fee rate the books charge (0.006 is 0.60%); each row's fee is rounded half up to the fen. */
  billFeeRate: number;
  /** How long a bill's download_url lives (ms); WeChat's pages say 30 s or 5 min. */
  billUrlTtlMs: number;
}

export const DEFAULT_CONTROLS: SandboxControls = {
  dropNotifications: 0,
  duplicateNotifications: 0,
  notificationDelayMs: 0,
  signtestProbes: false,
  timeScale: 1,
  failPrepay: null,
  prepayDelayMs: 0,
  code2sessionErrcode: null,
  signWith: 'publicKey',
  switchShare: 0.5,
  tamperCertificates: null,
  refundOutcome: 'success',
  refundDelayMs: 50,
  dropRefundNotifications: 0,
  billsReadyNow: false,
  billFeeRate: 0.006,
  billUrlTtlMs: 30_000,
};

export type RefundState = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';

export interface SandboxRefund {
  api: 'v3' | 'v2';
  /** The request's parameters in a canonical form: a repeat with the same out_refund_no must match. */
  canonical: string;
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  amount: number;
  total: number;
  status: RefundState;
  createTime: string;
  successTime: string | null;
  notifyUrl: string | null;
  dropNotifications: boolean;
}

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';

/** The body of POST /v3/pay/transactions/jsapi as the sandbox received it. */
export interface JsapiBody {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  attach?: string;
  notify_url: string;
  amount: { total: number; currency?: string };
  payer: { openid: string };
  scene_info?: { payer_client_ip?: string };
}

export interface SandboxOrder {
  /** Which API created it: the notification, the paySign and the refund notification follow it. */
  api: 'v3' | 'v2';
  /** v2: the sign_type of unifiedorder, which the paySign and the notification use. */
  signType?: 'MD5' | 'HMAC-SHA256';
  /** The parameters in a canonical form (keys sorted): an identical re-post matches it whatever its key order. */
  canonical: string;
  body: JsapiBody;
  state: TradeState;
  createdAt: number;
  expiresAt: number;
  transactionId: string | null;
  successTime: string | null;
  dropNotifications: boolean;
}

/** WeChat's PTR signer for responses and notifications: a serial and its private key. */
export interface PlatformSigner {
  serial: string;
  privateKey: crypto.KeyObject;
}

/** A platform certificate WeChat lists (GET /v3/certificates) and signs with from `usableFrom`. */
export interface SandboxCertificate extends PlatformSigner {
  pem: string;
  notBefore: number;
  notAfter: number;
  /** When WeChat starts signing with it (a new one is listed ahead of use). */
  usableFrom: number;
  /** Expired by a switch (sandbox time), before its own notAfter. */
  expiredAt: number | null;
}

export interface SandboxState {
  keys: SandboxKeys;
  now: () => number;
  controls: SandboxControls;
  merchantPublicKey: crypto.KeyObject;
  publicKeySigner: PlatformSigner;
  /** Every platform certificate, oldest first. */
  certificates: SandboxCertificate[];
  users: Map<string, { openid: string; sessionKey: string }>;
  openids: Set<string>;
  codes: Map<string, { openid: string; expiresAt: number; used: boolean }>;
  loginRate: Map<string, { start: number; count: number }>;
  orders: Map<string, SandboxOrder>;
  prepays: Map<string, { outTradeNo: string; expiresAt: number }>;
  transactions: Map<string, string>;
  refunds: Map<string, SandboxRefund>;
  /** Every successful transaction, in the order it happened: what the trade bill lists. */
  ledger: LedgerEntry[];
  /** Called when a refund succeeds (complaints resolve an approved refund). */
  onRefundSucceeded?: (transactionId: string) => void;
}

export interface LedgerEntry {
  transactionId: string;
  outTradeNo: string;
  at: number;
}

export function createState(o: {
  keys: SandboxKeys;
  now?: () => number;
  controls?: Partial<SandboxControls>;
  certificate?: { pem: string; privateKeyPem: string };
}): SandboxState {
  return {
    keys: o.keys,
    now: o.now ?? Date.now,
    controls: { ...DEFAULT_CONTROLS, ...o.controls },
    merchantPublicKey: crypto.createPublicKey(o.keys.merchantPublicKeyPem),
    publicKeySigner: { serial: o.keys.publicKeyId, privateKey: crypto.createPrivateKey(o.keys.platformPrivateKeyPem) },
    certificates: o.certificate ? [sandboxCertificate(o.certificate.pem, o.certificate.privateKeyPem, Number.NEGATIVE_INFINITY)] : [],
    users: new Map(),
    openids: new Set(),
    codes: new Map(),
    loginRate: new Map(),
    orders: new Map(),
    prepays: new Map(),
    transactions: new Map(),
    refunds: new Map(),
    ledger: [],
  };
}

export function sandboxCertificate(pem: string, privateKeyPem: string, usableFrom: number): SandboxCertificate {
  const x = new crypto.X509Certificate(pem);
  return {
    serial: x.serialNumber.toUpperCase(),
    privateKey: crypto.createPrivateKey(privateKeyPem),
    pem,
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
    usableFrom,
    expiredAt: null,
  };
}

/** The certificates WeChat lists now: within their validity and not expired by a switch (sandbox time). */
export function listedCertificates(s: SandboxState): SandboxCertificate[] {
  const now = s.now();
  return s.certificates.filter((c) => c.expiredAt === null && c.notBefore <= now && now < c.notAfter);
}

/** The certificate WeChat signs with now: the newest listed one whose time of use has come. */
export function currentCertificate(s: SandboxState): SandboxCertificate | null {
  const usable = listedCertificates(s).filter((c) => c.usableFrom <= s.now());
  return usable[usable.length - 1] ?? null;
}

/** The signer WeChat would use now, unless a request asked for its public key by Wechatpay-Serial. */
export function defaultSigner(s: SandboxState): PlatformSigner {
  const cert = currentCertificate(s);
  if (!cert || s.controls.signWith === 'publicKey') return s.publicKeySigner;
  if (s.controls.signWith === 'switch' && Math.random() < s.controls.switchShare) return s.publicKeySigner;
  return cert;
}

export function userFor(s: SandboxState, name: string) {
  let u = s.users.get(name);
  if (!u) {
    const digest = crypto.createHash('sha256').update(`${s.keys.appid}:${name}`).digest('base64url');
    u = { openid: `o${digest.slice(0, 27)}`, sessionKey: crypto.randomBytes(16).toString('base64') };
    s.users.set(name, u);
    s.openids.add(u.openid);
  }
  return u;
}

/** A login code for a shopper, as wx.login would give one: valid 5 minutes, single use. */
export function issueCode(s: SandboxState, user?: string): { code: string; openid: string } {
  const name = user ?? `shopper-${crypto.randomBytes(4).toString('hex')}`;
  const u = userFor(s, name);
  const code = randomNonce(32);
  s.codes.set(code, { openid: u.openid, expiresAt: s.now() + 5 * 60_000, used: false });
  return { code, openid: u.openid };
}

/** Expires NOTPAY orders past their time_expire, as WeChat does. */
export function current(s: SandboxState, o: SandboxOrder): SandboxOrder {
  if (o.state === 'NOTPAY' && o.expiresAt <= s.now()) o.state = 'CLOSED';
  return o;
}

/** Marks an order paid, with a transaction id and success time in WeChat's formats. */
export function markPaid(s: SandboxState, o: SandboxOrder): void {
  o.state = 'SUCCESS';
  o.transactionId = newTransactionId(s);
  o.successTime = beijingTime(s.now());
  s.transactions.set(o.transactionId, o.body.out_trade_no);
  s.ledger.push({ transactionId: o.transactionId, outTradeNo: o.body.out_trade_no, at: s.now() });
}

/** The Transaction object of §8.4, as queries answer and notifications carry it. */
export function transactionOf(o: SandboxOrder): Record<string, unknown> {
  const paid = o.state === 'SUCCESS';
  return {
    appid: o.body.appid,
    mchid: o.body.mchid,
    out_trade_no: o.body.out_trade_no,
    ...(paid ? { transaction_id: o.transactionId, bank_type: 'OTHERS', success_time: o.successTime, attach: o.body.attach ?? '' } : {}),
    trade_type: 'JSAPI',
    trade_state: o.state,
    trade_state_desc: { NOTPAY: '订单未支付', SUCCESS: '支付成功', CLOSED: '订单已关闭' }[o.state],
    payer: { openid: o.body.payer.openid },
    amount: paid
      ? { total: o.body.amount.total, payer_total: o.body.amount.total, currency: 'CNY', payer_currency: 'CNY' }
      : { total: o.body.amount.total, currency: 'CNY' },
  };
}

/** JSON with every object's keys sorted: WeChat compares parameters, not text. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

/** What is left to refund of one transaction: its amount less every refund of it that is not CLOSED. */
export function refundable(s: SandboxState, transactionId: string): number {
  const no = s.transactions.get(transactionId);
  const o = no ? s.orders.get(no) : undefined;
  if (o?.state !== 'SUCCESS') return 0;
  let reserved = 0;
  for (const r of s.refunds.values()) if (r.transactionId === transactionId && r.status !== 'CLOSED') reserved += r.amount;
  return o.body.amount.total - reserved;
}

/** A new transaction id in WeChat's format (42000 + Beijing date + digits). */
export function newTransactionId(s: SandboxState): string {
  return `42000${beijingCompact(s.now()).slice(0, 8)}${Array.from(crypto.randomBytes(15), (x) => x % 10).join('')}`;
}

/** The refund object of §10, as the API answers it (notifications call the status refund_status). */
export function refundOf(r: SandboxRefund): Record<string, unknown> {
  return {
    refund_id: r.refundId,
    out_refund_no: r.outRefundNo,
    transaction_id: r.transactionId,
    out_trade_no: r.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(r.successTime ? { success_time: r.successTime } : {}),
    create_time: r.createTime,
    status: r.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: r.total,
      refund: r.amount,
      payer_total: r.total,
      payer_refund: r.amount,
      settlement_refund: r.amount,
      settlement_total: r.total,
      discount_refund: 0,
      currency: 'CNY',
    },
  };
}

/** The decrypted resource of a REFUND.* notification. */
export function refundNotificationOf(s: SandboxState, r: SandboxRefund): Record<string, unknown> {
  return {
    mchid: s.keys.mchid,
    out_trade_no: r.outTradeNo,
    transaction_id: r.transactionId,
    out_refund_no: r.outRefundNo,
    refund_id: r.refundId,
    refund_status: r.status,
    ...(r.successTime ? { success_time: r.successTime } : {}),
    user_received_account: '支付用户零钱',
    amount: { total: r.total, refund: r.amount, payer_total: r.total, payer_refund: r.amount },
  };
}
