// WeChat Pay API v3 as api.mch.weixin.qq.com answers it: JSAPI orders, queries, close. Every call
// is checked as WeChat checks it (Accept and User-Agent, the merchant's Authorization signature
// over the exact bytes, a fresh timestamp, the right serial) and every answer is signed.
import crypto from 'node:crypto';
import express, { type Router } from 'express';
import { parseAuthorization, requestMessage, rsaVerify } from '../server/src/wechatpay/crypto';
import { beijingCompact } from '../server/src/wechatpay/time';
import type { Deliveries } from './delivery';
import { canonicalJson, current, transactionOf, type JsapiBody, type SandboxState } from './state';
import { refundRoutes } from './v3-refunds';
import type { Books } from './books';
import { certificateRoutes } from './certificates';
import type { SandboxComplaints } from './complaints';
import { v3Answers } from './v3-answers';

const ALLOWED_OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const PREPAY_TTL_MS = 2 * 3600_000;

const textOf = (req: unknown): string => (req as { text?: string }).text ?? '';

export interface V3Options {
  /** Real WeChat requires https notify URLs; the local sandbox also accepts http. */
  allowHttpNotifyUrl?: boolean;
  /** Hangs for this long (ms) before answering, honouring stop(). */
  later(ms: number): Promise<void>;
  deliveries: Deliveries;
  books: Books;
  complaints: SandboxComplaints;
}

export function v3PayRoutes(s: SandboxState, o: V3Options): Router {
  const { keys } = s;
  const { sendSigned, v3Error } = v3Answers(s);
  const r = express.Router();

  // A known resource asked for with the wrong method: 405, before anything else is looked at.
  const methods: [RegExp, string][] = [
    [/^\/v3\/pay\/transactions\/jsapi$/, 'POST'],
    [/^\/v3\/pay\/transactions\/out-trade-no\/[^/]+\/close$/, 'POST'],
    [/^\/v3\/pay\/transactions\/(out-trade-no|id)\/[^/]+$/, 'GET'],
    [/^\/v3\/refund\/domestic\/refunds$/, 'POST'],
    [/^\/v3\/refund\/domestic\/refunds\/[^/]+$/, 'GET'],
    [/^\/v3\/bill\/(tradebill|fundflowbill)$/, 'GET'],
    [/^\/v3\/billdownload\/file$/, 'GET'],
    [/^\/v3\/certificates$/, 'GET'],
  ];
  r.use('/v3', (req, res, next) => {
    const path = req.originalUrl.split('?')[0]!;
    const known = methods.find(([re]) => re.test(path));
    if (known && req.method !== known[1]) {
      res.set('Allow', known[1]);
      return v3Error(req, res, 405, 'METHOD_NOT_ALLOWED', `${req.method} 不支持，请使用 ${known[1]}`);
    }
    next();
  });

  // Every /v3 call: Accept and User-Agent, a well-formed Authorization, a fresh timestamp,
  // the right merchant serial and a signature over the exact bytes received.
  r.use('/v3', express.raw({ type: () => true, limit: '64kb' }), (req, res, next) => {
    if (!req.get('Accept') || !req.get('User-Agent')) return v3Error(req, res, 400, 'INVALID_REQUEST', 'Http头缺少Accept或User-Agent');
    const auth = parseAuthorization(req.get('Authorization'));
    if (!auth) return v3Error(req, res, 401, 'SIGN_ERROR', 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》');
    if (!/^\d{10}$/.test(auth.timestamp) || Math.abs(s.now() / 1000 - Number(auth.timestamp)) > 300) {
      return v3Error(req, res, 401, 'SIGN_ERROR', '请求的时间戳已过期或无效');
    }
    if (auth.mchid !== keys.mchid) return v3Error(req, res, 400, 'MCH_NOT_EXISTS', '商户号不存在');
    if (auth.serial_no.toUpperCase() !== keys.merchantSerial) return v3Error(req, res, 401, 'SIGN_ERROR', '商户证书序列号有误');
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const message = requestMessage(req.method, req.originalUrl, auth.timestamp, auth.nonce_str, body);
    if (!rsaVerify(s.merchantPublicKey, message, auth.signature)) {
      return v3Error(req, res, 401, 'SIGN_ERROR', '错误的签名，验签失败', {
        detail: { issue: 'sign not match' },
        field: 'signature',
        location: 'authorization',
      });
    }
    (req as unknown as { text: string }).text = body;
    next();
  });

  r.post('/v3/pay/transactions/jsapi', async (req, res) => {
    if (s.controls.prepayDelayMs) await o.later(s.controls.prepayDelayMs);
    const forced = s.controls.failPrepay;
    if (forced && forced.times > 0) {
      forced.times -= 1;
      return v3Error(req, res, forced.status, forced.code, forced.message);
    }
    let b: JsapiBody;
    try {
      b = JSON.parse(textOf(req)) as JsapiBody;
    } catch {
      return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是合法的JSON');
    }
    if (!b || typeof b !== 'object' || Array.isArray(b)) return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是JSON对象');
    // detail.value holds the offending value itself, as WeChat's PARAM_ERROR does.
    const bad = (field: string, value: unknown, issue: string) =>
      v3Error(req, res, 400, 'PARAM_ERROR', '参数错误', { field, value: value ?? null, issue, location: 'body' });
    if (typeof b.appid !== 'string' || !b.appid || b.appid.length > 32) return bad('/appid', b.appid, 'appid is required');
    if (typeof b.mchid !== 'string' || !b.mchid) return bad('/mchid', b.mchid, 'mchid is required');
    if (typeof b.description !== 'string' || !b.description || [...b.description].length > 127)
      return bad('/description', b.description, 'length must be 1..127');
    if (typeof b.out_trade_no !== 'string' || !ALLOWED_OUT_TRADE_NO.test(b.out_trade_no))
      return bad('/out_trade_no', b.out_trade_no, 'must be 6..32 of [0-9A-Za-z_-|*]');
    if (typeof b.notify_url !== 'string' || b.notify_url.length > 255) return bad('/notify_url', b.notify_url, 'notify_url is required');
    let notify: URL;
    try {
      notify = new URL(b.notify_url);
    } catch {
      return bad('/notify_url', b.notify_url, 'must be an absolute URL');
    }
    if (notify.search) return bad('/notify_url', b.notify_url, 'must not carry a query string');
    if (notify.protocol !== 'https:' && !(o.allowHttpNotifyUrl && notify.protocol === 'http:'))
      return bad('/notify_url', b.notify_url, 'must be https');
    if (!b.amount || !Number.isSafeInteger(b.amount.total) || b.amount.total <= 0)
      return bad('/amount/total', b.amount?.total, 'must be a positive integer number of fen');
    if ((b.amount.currency ?? 'CNY') !== 'CNY') return bad('/amount/currency', b.amount.currency, 'Currency code is invalid');
    if (!b.payer || typeof b.payer.openid !== 'string' || !b.payer.openid)
      return bad('/payer/openid', b.payer?.openid, 'openid is required');
    if (b.scene_info !== undefined) {
      const ip = (b.scene_info as { payer_client_ip?: unknown } | null)?.payer_client_ip;
      if (typeof ip !== 'string' || !ip || ip.length > 45)
        return bad('/scene_info/payer_client_ip', ip, 'payer_client_ip is required in scene_info');
    }
    let expiresAt = s.now() + 7 * 24 * 3600_000;
    if (b.time_expire !== undefined) {
      const t = Date.parse(b.time_expire);
      if (typeof b.time_expire !== 'string' || !/[+-]\d{2}:\d{2}$/.test(b.time_expire) || Number.isNaN(t))
        return bad('/time_expire', b.time_expire, 'must be RFC 3339 with an offset');
      expiresAt = Math.min(Math.max(t, s.now() + 60_000), s.now() + 90 * 24 * 3600_000);
    }
    if (b.appid !== keys.appid || b.mchid !== keys.mchid) return v3Error(req, res, 400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
    if (!s.openids.has(b.payer.openid)) return v3Error(req, res, 500, 'OPENID_MISMATCH', 'openid和appid不匹配');
    const canonical = canonicalJson(b);
    const existing = s.orders.get(b.out_trade_no);
    if (existing) {
      current(s, existing);
      if (existing.state === 'SUCCESS') return v3Error(req, res, 400, 'ORDERPAID', '该订单已支付');
      if (existing.state === 'CLOSED') return v3Error(req, res, 400, 'ORDER_CLOSED', '订单已关闭');
      if (existing.canonical !== canonical) return v3Error(req, res, 403, 'OUT_TRADE_NO_USED', '商户订单号重复');
    } else {
      s.orders.set(b.out_trade_no, {
        api: 'v3',
        canonical,
        body: b,
        state: 'NOTPAY',
        createdAt: s.now(),
        expiresAt,
        transactionId: null,
        successTime: null,
        dropNotifications: false,
      });
    }
    const prepayId = `wx${beijingCompact(s.now())}${crypto.randomBytes(10).toString('hex')}`;
    s.prepays.set(prepayId, { outTradeNo: b.out_trade_no, expiresAt: s.now() + PREPAY_TTL_MS });
    return sendSigned(req, res, 200, { prepay_id: prepayId });
  });

  r.get('/v3/pay/transactions/out-trade-no/:no', (req, res) => {
    if (req.query.mchid !== keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'mchid 与请求的商户号不一致');
    const order = s.orders.get(String(req.params.no));
    if (!order) return v3Error(req, res, 404, 'ORDER_NOT_EXIST', '订单不存在');
    return sendSigned(req, res, 200, transactionOf(current(s, order)));
  });

  r.get('/v3/pay/transactions/id/:id', (req, res) => {
    if (req.query.mchid !== keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'mchid 与请求的商户号不一致');
    const no = s.transactions.get(String(req.params.id));
    const order = no ? s.orders.get(no) : undefined;
    if (!order) return v3Error(req, res, 404, 'ORDER_NOT_EXIST', '订单不存在');
    return sendSigned(req, res, 200, transactionOf(current(s, order)));
  });

  r.post('/v3/pay/transactions/out-trade-no/:no/close', (req, res) => {
    let mchid: unknown;
    try {
      mchid = (JSON.parse(textOf(req)) as { mchid?: unknown }).mchid;
    } catch {
      return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是合法的JSON');
    }
    if (mchid !== keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'mchid 与请求的商户号不一致');
    const order = s.orders.get(String(req.params.no));
    if (order && current(s, order).state === 'SUCCESS') return v3Error(req, res, 400, 'ORDERPAID', '该订单已支付');
    if (order) order.state = 'CLOSED';
    return sendSigned(req, res, 204, null); // closing an unknown or closed order also answers 204
  });

  r.use(refundRoutes(s, { answers: { sendSigned, v3Error }, deliveries: o.deliveries }));
  r.use(o.books.v3Routes({ sendSigned, v3Error }));
  r.use(certificateRoutes(s, { sendSigned, v3Error }));
  r.use(o.complaints.v3Routes({ sendSigned, v3Error }));

  r.all(/^\/v3\//, (req, res) => v3Error(req, res, 404, 'RESOURCE_NOT_EXISTS', '请求的资源不存在'));
  return r;
}
