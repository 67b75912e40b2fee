// A local stand-in for api.weixin.qq.com, api.mch.weixin.qq.com and the WeChat app's payment
// sheet. Same paths and formats as WeChat, real signatures, real encryption, in memory.
import crypto from 'node:crypto';
import express, { type Request, type Response } from 'express';
import {
  paySignMessage,
  parseAuthorization,
  randomNonce,
  requestMessage,
  responseMessage,
  rsaSign,
  rsaVerify,
} from '../server/src/wechatpay/crypto';
import type { SandboxKeys } from './keys';
import { buildNotification, type NotificationSigner } from './notify';

/** WeChat's documented notification retry schedule after the first attempt, in seconds. */
export const RETRY_SCHEDULE_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

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
  /** Sign responses and notifications with this platform key (default: the public key). */
  signWith: 'publicKey' | 'certificate';
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
};

type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';

interface SandboxOrder {
  canonical: string;
  body: JsapiBody;
  state: TradeState;
  createdAt: number;
  expiresAt: number;
  transactionId: string | null;
  successTime: string | null;
  dropNotifications: boolean;
}

interface JsapiBody {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  attach?: string;
  notify_url: string;
  amount: { total: number; currency?: string };
  payer: { openid: string };
}

export interface DeliveryRecord {
  outTradeNo: string;
  attempt: number;
  status: number | 'error';
  probe: boolean;
  at: number;
}

export interface SandboxOptions {
  keys: SandboxKeys;
  /** An extra platform certificate (PEM + its private key) for certificate-mode tests. */
  certificate?: { pem: string; privateKeyPem: string };
  controls?: Partial<SandboxControls>;
  now?: () => number;
  /** Real WeChat requires https notify URLs; the local sandbox also accepts http on loopback. */
  allowHttpNotifyUrl?: boolean;
}

export interface Sandbox {
  app: express.Express;
  controls: SandboxControls;
  deliveries: DeliveryRecord[];
  /** Test helper: the signer WeChat would use for notifications now. */
  signer(): NotificationSigner;
  orderState(outTradeNo: string): TradeState | null;
  /** Issues a login code for a test user, as wx.login would. */
  issueCode(user?: string): { code: string; openid: string };
  /** Resolves once every scheduled notification has been delivered or given up. */
  idle(): Promise<void>;
  stop(): void;
}

const textOf = (req: unknown): string => (req as { text?: string }).text ?? '';

const ALLOWED_OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const PREPAY_TTL_MS = 2 * 3600_000;

export function createSandbox(opts: SandboxOptions): Sandbox {
  const { keys } = opts;
  const now = opts.now ?? Date.now;
  const controls: SandboxControls = { ...DEFAULT_CONTROLS, ...opts.controls };
  const merchantPublicKey = crypto.createPublicKey(keys.merchantPublicKeyPem);
  const publicKeySigner: NotificationSigner = { serial: keys.publicKeyId, privateKey: crypto.createPrivateKey(keys.platformPrivateKeyPem) };
  const certSigner: NotificationSigner | null = opts.certificate
    ? {
        serial: new crypto.X509Certificate(opts.certificate.pem).serialNumber.toUpperCase(),
        privateKey: crypto.createPrivateKey(opts.certificate.privateKeyPem),
      }
    : null;
  const defaultSigner = (): NotificationSigner => (controls.signWith === 'certificate' && certSigner ? certSigner : publicKeySigner);

  const users = new Map<string, { openid: string; sessionKey: string }>();
  const openids = new Set<string>();
  const codes = new Map<string, { openid: string; expiresAt: number; used: boolean }>();
  const loginRate = new Map<string, { start: number; count: number }>();
  const orders = new Map<string, SandboxOrder>();
  const prepays = new Map<string, { outTradeNo: string; expiresAt: number }>();
  const transactions = new Map<string, string>();
  const deliveries: DeliveryRecord[] = [];
  const timers = new Map<NodeJS.Timeout, () => void>();
  const pending = new Set<Promise<void>>();
  let stopped = false;

  function userFor(name: string) {
    let u = users.get(name);
    if (!u) {
      const digest = crypto.createHash('sha256').update(`${keys.appid}:${name}`).digest('base64url');
      u = { openid: `o${digest.slice(0, 27)}`, sessionKey: crypto.randomBytes(16).toString('base64') };
      users.set(name, u);
      openids.add(u.openid);
    }
    return u;
  }

  function issueCode(user?: string) {
    const name = user ?? `shopper-${crypto.randomBytes(4).toString('hex')}`;
    const u = userFor(name);
    const code = randomNonce(32);
    codes.set(code, { openid: u.openid, expiresAt: now() + 5 * 60_000, used: false });
    return { code, openid: u.openid };
  }

  /** Expires NOTPAY orders past their time_expire, as WeChat does. */
  function current(o: SandboxOrder): SandboxOrder {
    if (o.state === 'NOTPAY' && o.expiresAt <= now()) o.state = 'CLOSED';
    return o;
  }

  function transactionOf(o: SandboxOrder): Record<string, unknown> {
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

  // ---- notification delivery, on WeChat's schedule ------------------------------------------

  function later(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });
  }

  async function post(url: string, body: string, headers: Record<string, string>): Promise<number | 'error'> {
    try {
      const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 'error';
    }
  }

  async function deliver(o: SandboxOrder): Promise<void> {
    const outTradeNo = o.body.out_trade_no;
    const id = crypto.randomUUID(); // retries reuse the same notification id
    if (controls.notificationDelayMs) await later(controls.notificationDelayMs);
    for (let attempt = 0; attempt <= RETRY_SCHEDULE_S.length && !stopped; attempt++) {
      if (attempt > 0) await later(RETRY_SCHEDULE_S[attempt - 1]! * 1000 * controls.timeScale);
      if (stopped) return;
      const signer = defaultSigner();
      if (attempt === 0 && controls.signtestProbes) {
        const probe = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionOf(o), id, nowMs: now(), signtest: true });
        deliveries.push({ outTradeNo, attempt, status: await post(o.body.notify_url, probe.body, probe.headers), probe: true, at: now() });
        continue; // a probe must be refused; the real delivery follows on the retry schedule
      }
      const copies = 1 + controls.duplicateNotifications;
      const results = await Promise.all(
        Array.from({ length: copies }, async () => {
          const d = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionOf(o), id, nowMs: now() });
          const status = await post(o.body.notify_url, d.body, d.headers);
          deliveries.push({ outTradeNo, attempt, status, probe: false, at: now() });
          return status;
        }),
      );
      if (results.some((s) => s === 200 || s === 204)) return;
    }
  }

  function scheduleDelivery(o: SandboxOrder) {
    if (o.dropNotifications) return;
    const p = deliver(o).finally(() => pending.delete(p));
    pending.add(p);
  }

  // ---- signed v3 responses ------------------------------------------------------------------

  function sendSigned(req: Request, res: Response, status: number, payload: unknown) {
    const body = payload === null ? '' : JSON.stringify(payload);
    const asked = req.get('Wechatpay-Serial');
    const signer = asked === keys.publicKeyId ? publicKeySigner : asked && certSigner && asked === certSigner.serial ? certSigner : defaultSigner();
    const timestamp = Math.floor(now() / 1000).toString();
    const nonce = randomNonce(32);
    res.status(status).set({
      'Request-ID': `${crypto.randomBytes(16).toString('hex').toUpperCase()}-0`,
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature': rsaSign(signer.privateKey, responseMessage(timestamp, nonce, body)),
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    });
    if (body) res.type('application/json; charset=utf-8').send(body);
    else res.end();
  }

  const v3Error = (req: Request, res: Response, status: number, code: string, message: string, detail?: Record<string, unknown>) =>
    sendSigned(req, res, status, { code, message, ...(detail ? { detail } : {}) });

  // ---- the app ------------------------------------------------------------------------------

  const app = express();
  app.disable('x-powered-by');

  app.get('/sns/jscode2session', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const answer = (body: Record<string, unknown>) => res.type('text/plain').send(JSON.stringify(body));
    const err = (errcode: number, errmsg: string) => answer({ errcode, errmsg: `${errmsg}, rid: ${randomNonce(8)}` });
    if (controls.code2sessionErrcode && controls.code2sessionErrcode.times > 0) {
      controls.code2sessionErrcode.times -= 1;
      const e = controls.code2sessionErrcode.errcode;
      return err(e, e === -1 ? 'system error' : 'forced by the sandbox');
    }
    if (!q.appid) return err(41002, 'appid missing');
    if (!q.secret) return err(41004, 'appsecret missing');
    if (!q.js_code) return err(41008, 'invalid code: missing code');
    if (q.appid !== keys.appid) return err(40013, 'invalid appid');
    if (q.secret !== keys.appSecret) return err(40125, 'invalid appsecret');
    if (q.grant_type !== 'authorization_code') return err(40002, 'invalid grant_type');
    const c = codes.get(q.js_code);
    if (!c || c.expiresAt <= now()) return err(40029, 'invalid code');
    if (c.used) return err(40163, 'code been used');
    const w = loginRate.get(c.openid);
    const t = now();
    if (!w || t - w.start >= 60_000) loginRate.set(c.openid, { start: t, count: 1 });
    else if (++w.count > 100) return err(45011, 'api minute-quota reach limit  mustslower  retry next minute');
    c.used = true;
    const user = [...users.values()].find((u) => u.openid === c.openid)!;
    return answer({ openid: user.openid, session_key: user.sessionKey });
  });

  // Every /v3 call: Accept and User-Agent, a well-formed Authorization, a fresh timestamp,
  // the right merchant serial and a signature over the exact bytes received.
  app.use('/v3', express.raw({ type: () => true, limit: '64kb' }), (req, res, next) => {
    if (!req.get('Accept') || !req.get('User-Agent')) return v3Error(req, res, 400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent');
    const auth = parseAuthorization(req.get('Authorization'));
    if (!auth) return v3Error(req, res, 401, 'SIGN_ERROR', 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》');
    if (!/^\d{10}$/.test(auth.timestamp) || Math.abs(now() / 1000 - Number(auth.timestamp)) > 300) {
      return v3Error(req, res, 401, 'SIGN_ERROR', '请求的时间戳已过期或无效');
    }
    if (auth.mchid !== keys.mchid) return v3Error(req, res, 400, 'MCH_NOT_EXISTS', '商户号不存在');
    if (auth.serial_no.toUpperCase() !== keys.merchantSerial) return v3Error(req, res, 401, 'SIGN_ERROR', '商户证书序列号有误');
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const message = requestMessage(req.method, req.originalUrl, auth.timestamp, auth.nonce_str, body);
    if (!rsaVerify(merchantPublicKey, message, auth.signature)) {
      return v3Error(req, res, 401, 'SIGN_ERROR', '错误的签名，验签失败', { detail: { issue: 'sign not match' }, field: 'signature', location: 'authorization' });
    }
    (req as unknown as { text: string }).text = body;
    next();
  });

  app.post('/v3/pay/transactions/jsapi', async (req, res) => {
    if (controls.prepayDelayMs) await later(controls.prepayDelayMs);
    if (controls.failPrepay && controls.failPrepay.times > 0) {
      controls.failPrepay.times -= 1;
      const f = controls.failPrepay;
      return v3Error(req, res, f.status, f.code, f.message);
    }
    let b: JsapiBody;
    try {
      b = JSON.parse(textOf(req)) as JsapiBody;
    } catch {
      return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是合法的JSON');
    }
    const bad = (field: string, issue: string) =>
      v3Error(req, res, 400, 'PARAM_ERROR', '参数错误', { field, value: field, issue, location: 'body' });
    if (typeof b.appid !== 'string' || !b.appid || b.appid.length > 32) return bad('/appid', 'appid is required');
    if (typeof b.mchid !== 'string' || !b.mchid) return bad('/mchid', 'mchid is required');
    if (typeof b.description !== 'string' || !b.description || [...b.description].length > 127) return bad('/description', 'length must be 1..127');
    if (typeof b.out_trade_no !== 'string' || !ALLOWED_OUT_TRADE_NO.test(b.out_trade_no)) return bad('/out_trade_no', 'must be 6..32 of [0-9A-Za-z_-|*]');
    if (typeof b.notify_url !== 'string' || b.notify_url.length > 255) return bad('/notify_url', 'notify_url is required');
    let notify: URL;
    try {
      notify = new URL(b.notify_url);
    } catch {
      return bad('/notify_url', 'must be an absolute URL');
    }
    if (notify.search) return bad('/notify_url', 'must not carry a query string');
    if (notify.protocol !== 'https:' && !(opts.allowHttpNotifyUrl && notify.protocol === 'http:')) return bad('/notify_url', 'must be https');
    if (!b.amount || !Number.isSafeInteger(b.amount.total) || b.amount.total <= 0) return bad('/amount/total', 'must be a positive integer number of fen');
    if ((b.amount.currency ?? 'CNY') !== 'CNY') return bad('/amount/currency', 'Currency code is invalid');
    if (!b.payer || typeof b.payer.openid !== 'string' || !b.payer.openid) return bad('/payer/openid', 'openid is required');
    let expiresAt = now() + 7 * 24 * 3600_000;
    if (b.time_expire !== undefined) {
      const t = Date.parse(b.time_expire);
      if (typeof b.time_expire !== 'string' || !/[+-]\d{2}:\d{2}$/.test(b.time_expire) || Number.isNaN(t)) return bad('/time_expire', 'must be RFC 3339 with an offset');
      expiresAt = Math.min(Math.max(t, now() + 60_000), now() + 90 * 24 * 3600_000);
    }
    if (b.appid !== keys.appid || b.mchid !== keys.mchid) return v3Error(req, res, 400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    if (!openids.has(b.payer.openid)) return v3Error(req, res, 500, 'OPENID_MISMATCH', 'openid和appid不匹配');
    const canonical = JSON.stringify(b);
    const existing = orders.get(b.out_trade_no);
    if (existing) {
      current(existing);
      if (existing.state === 'SUCCESS') return v3Error(req, res, 400, 'ORDERPAID', '该订单已支付');
      if (existing.state === 'CLOSED') return v3Error(req, res, 400, 'ORDER_CLOSED', '订单已关闭');
      if (existing.canonical !== canonical) return v3Error(req, res, 403, 'OUT_TRADE_NO_USED', '商户订单号重复');
    } else {
      orders.set(b.out_trade_no, {
        canonical,
        body: b,
        state: 'NOTPAY',
        createdAt: now(),
        expiresAt,
        transactionId: null,
        successTime: null,
        dropNotifications: false,
      });
    }
    const stamp = new Date(now() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 14);
    const prepayId = `wx${stamp}${crypto.randomBytes(10).toString('hex')}`;
    prepays.set(prepayId, { outTradeNo: b.out_trade_no, expiresAt: now() + PREPAY_TTL_MS });
    return sendSigned(req, res, 200, { prepay_id: prepayId });
  });

  app.get('/v3/pay/transactions/out-trade-no/:no', (req, res) => {
    if (req.query.mchid !== keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'mchid 与请求的商户号不一致');
    const o = orders.get(String(req.params.no));
    if (!o) return v3Error(req, res, 404, 'ORDER_NOT_EXIST', '订单不存在');
    return sendSigned(req, res, 200, transactionOf(current(o)));
  });

  app.get('/v3/pay/transactions/id/:id', (req, res) => {
    if (req.query.mchid !== keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'mchid 与请求的商户号不一致');
    const no = transactions.get(String(req.params.id));
    const o = no ? orders.get(no) : undefined;
    if (!o) return v3Error(req, res, 404, 'ORDER_NOT_EXIST', '订单不存在');
    return sendSigned(req, res, 200, transactionOf(current(o)));
  });

  app.post('/v3/pay/transactions/out-trade-no/:no/close', (req, res) => {
    let mchid: unknown;
    try {
      mchid = (JSON.parse(textOf(req)) as { mchid?: unknown }).mchid;
    } catch {
      return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是合法的JSON');
    }
    if (mchid !== keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'mchid 与请求的商户号不一致');
    const o = orders.get(String(req.params.no));
    if (o && current(o).state === 'SUCCESS') return v3Error(req, res, 400, 'ORDERPAID', '该订单已支付');
    if (o) o.state = 'CLOSED';
    return sendSigned(req, res, 204, null); // closing an unknown or closed order also answers 204
  });

  app.all(/^\/v3\//, (req, res) => v3Error(req, res, 404, 'RESOURCE_NOT_EXISTS', '请求的资源不存在'));

  // ---- the payer's side: what the WeChat app does on the phone --------------------------------

  const payer = express.Router();
  payer.use((req, res, next) => {
    // The H5 demo calls these from the shop's page, on another port.
    res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Allow-Methods': 'GET, POST' });
    if (req.method === 'OPTIONS') return res.status(204).end();
    next();
  });
  payer.use(express.json({ limit: '8kb' }));

  payer.post('/login', (req, res) => {
    const user = (req.body as { user?: unknown } | undefined)?.user;
    if (user !== undefined && (typeof user !== 'string' || !/^[\w-]{1,64}$/.test(user))) {
      return res.status(400).json({ errMsg: 'login:fail user must be 1-64 letters, digits, _ or -' });
    }
    const { code } = issueCode(user as string | undefined);
    res.json({ errMsg: 'login:ok', code });
  });

  const prepayOf = (pkg: unknown) => {
    const m = typeof pkg === 'string' ? /^prepay_id=(\S+)$/.exec(pkg) : null;
    const p = m ? prepays.get(m[1]!) : undefined;
    const o = p ? orders.get(p.outTradeNo) : undefined;
    return p && o ? { prepay: p, order: current(o) } : null;
  };

  // What the payment sheet shows: amount and description for a prepay_id.
  payer.get('/prepay/:id', (req, res) => {
    const found = prepayOf(`prepay_id=${req.params.id}`);
    if (!found) return res.status(404).json({ errMsg: 'prepay_id not found' });
    res.json({ total: found.order.body.amount.total, description: found.order.body.description, state: found.order.state });
  });

  payer.post('/pay', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const fail = (status: number, detail: string) => res.status(status).json({ errMsg: `requestPayment:fail ${detail}` });
    for (const f of ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) {
      if (typeof b[f] !== 'string' || !b[f]) return fail(400, `调用支付JSAPI缺少参数：${f}`);
    }
    if (!/^\d{10}$/.test(b.timeStamp as string)) return fail(400, 'timeStamp must be a 10-digit string of seconds');
    if (b.signType !== 'RSA') return fail(400, `signType must be RSA for API v3 (got ${String(b.signType)})`);
    const found = prepayOf(b.package);
    if (!found) return fail(400, 'package must be prepay_id=<a prepay_id issued by WeChat Pay>');
    if (found.prepay.expiresAt <= now()) return fail(400, 'prepay_id 已过期');
    const message = paySignMessage(keys.appid, b.timeStamp as string, b.nonceStr as string, b.package as string);
    if (!rsaVerify(merchantPublicKey, message, b.paySign as string)) return fail(400, '支付验证签名失败');
    const o = found.order;
    if (o.state === 'SUCCESS') return fail(409, '该订单已支付');
    if (o.state === 'CLOSED') return fail(409, '订单已关闭');
    const outcome = b.outcome ?? 'success';
    if (outcome === 'cancel') return res.json({ errMsg: 'requestPayment:fail cancel' });
    if (outcome === 'fail') return res.json({ errMsg: 'requestPayment:fail 支付失败，请稍后再试' });
    if (outcome !== 'success') return fail(400, 'outcome must be success, cancel or fail');
    o.state = 'SUCCESS';
    o.transactionId = `42000${new Date(now() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 8)}${Array.from(crypto.randomBytes(15), (x) => x % 10).join('')}`;
    o.successTime = new Date(now() + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
    transactions.set(o.transactionId, o.body.out_trade_no);
    if (controls.dropNotifications > 0) {
      o.dropNotifications = true;
      controls.dropNotifications -= 1;
    }
    scheduleDelivery(o);
    res.json({ errMsg: 'requestPayment:ok' });
  });

  payer.get('/controls', (_req, res) => res.json(controls));
  payer.post('/controls', (req, res) => {
    const patch = (req.body ?? {}) as Partial<SandboxControls>;
    for (const k of Object.keys(patch) as (keyof SandboxControls)[]) {
      if (!(k in DEFAULT_CONTROLS)) return res.status(400).json({ errMsg: `unknown control ${k}` });
    }
    // JSON has no Infinity: `true` drops every notification from now on, `false` none.
    const drop = patch.dropNotifications as unknown;
    if (drop === true) patch.dropNotifications = Number.POSITIVE_INFINITY;
    if (drop === false) patch.dropNotifications = 0;
    Object.assign(controls, patch);
    res.json({ ...controls, dropNotifications: Number.isFinite(controls.dropNotifications) ? controls.dropNotifications : true });
  });
  payer.get('/deliveries', (_req, res) => res.json({ deliveries }));

  app.use('/sandbox', payer);
  app.get('/', (_req, res) =>
    res.type('text/plain').send('WeChat sandbox: /sns/jscode2session, /v3/pay/transactions/*, /sandbox/{login,pay,prepay/:id,controls,deliveries}\n'),
  );

  return {
    app,
    controls,
    deliveries,
    signer: defaultSigner,
    orderState: (no) => {
      const o = orders.get(no);
      return o ? current(o).state : null;
    },
    issueCode,
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
    stop() {
      stopped = true;
      for (const [t, resolve] of timers) {
        clearTimeout(t);
        resolve();
      }
      timers.clear();
    },
  };
}

