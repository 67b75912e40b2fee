// The payer's side: what the WeChat app does on the shopper's phone (wx.login's code, the payment
// sheet), and the switches tests use. These endpoints fake payment, so they answer clients on this
// machine only, and allow cross-origin calls only from pages served on this machine.
import express, { type Router } from 'express';
import { z } from 'zod';
import { paySignMessage, rsaVerify } from '../server/src/wechatpay/crypto';
import { v2Verify } from '../server/src/wechatpay/v2/sign';
import type { Deliveries } from './delivery';
import {
  current,
  currentCertificate,
  DEFAULT_CONTROLS,
  issueCode,
  listedCertificates,
  markPaid,
  type SandboxControls,
  type SandboxState,
} from './state';
import { expireCertificate, rotateCertificate } from './certificates';

const LOOPBACK_ADDRESS = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const LOOPBACK_ORIGIN = /^https?:\/\/(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$/;

/** A peer address on this machine. */
export const isLoopbackAddress = (address: string | undefined): boolean => LOOPBACK_ADDRESS.test(address ?? '');
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$/i;

/** A page served from this machine (the H5 shop), which may call the payer endpoints cross-origin. */
export const isLoopbackOrigin = (origin: string): boolean => LOOPBACK_ORIGIN.test(origin);
/**
 * A Host header naming this machine. A browser tricked by DNS rebinding reaches 127.0.0.1 from a
 * loopback address, but still says the attacker's name in Host (and Origin): that is how it is told apart.
 */
export const isLoopbackHost = (host: string | undefined): boolean => LOOPBACK_HOST.test(host ?? '');

const controlsSchema = z
  .strictObject({
    dropNotifications: z.union([z.boolean(), z.number().int().min(0)]),
    duplicateNotifications: z.number().int().min(0).max(100),
    notificationDelayMs: z.number().int().min(0).max(600_000),
    signtestProbes: z.boolean(),
    timeScale: z.number().positive().max(1000),
    failPrepay: z
      .strictObject({
        status: z.number().int().min(400).max(599),
        code: z.string().max(64),
        message: z.string().max(256),
        times: z.number().int().min(0),
      })
      .nullable(),
    prepayDelayMs: z.number().int().min(0).max(600_000),
    code2sessionErrcode: z.strictObject({ errcode: z.number().int(), times: z.number().int().min(0) }).nullable(),
    signWith: z.enum(['publicKey', 'certificate', 'switch']),
    switchShare: z.number().min(0).max(1),
    tamperCertificates: z.enum(['signature', 'encryption']).nullable(),
    refundOutcome: z.enum(['success', 'abnormal', 'closed']),
    refundDelayMs: z.number().int().min(0).max(600_000),
    dropRefundNotifications: z.union([z.boolean(), z.number().int().min(0)]),
    billsReadyNow: z.boolean(),
    billFeeRate: z.number().min(0).max(0.1),
    billUrlTtlMs: z.number().int().min(1).max(3_600_000),
  })
  .partial();

export interface PayerActions {
  /** A shopper files a complaint against a paid order. */
  fileComplaint(f: { outTradeNo: string; source: 'PAY' | 'MINIPROGRAM'; refundAmount?: number; text?: string }): {
    id: string;
    source: string;
  };
}

const fileComplaintSchema = z.strictObject({
  outTradeNo: z.string().min(1).max(32),
  source: z.enum(['PAY', 'MINIPROGRAM']),
  refundAmount: z.number().int().positive().optional(),
  text: z.string().min(1).max(300).optional(),
});

export function payerRoutes(s: SandboxState, deliveries: Deliveries, act: PayerActions): Router {
  const { keys } = s;
  const r = express.Router();
  r.use((req, res, next) => {
    const origin = req.get('Origin');
    // A peer elsewhere, a name that is not this machine's (DNS rebinding), or a page from elsewhere.
    if (
      !isLoopbackAddress(req.socket.remoteAddress) ||
      !isLoopbackHost(req.get('Host')) ||
      (origin !== undefined && !isLoopbackOrigin(origin))
    ) {
      return res.status(403).json({
        errMsg: 'the sandbox answers this machine only (peer, Host and Origin on loopback): its payer and control endpoints fake payment',
      });
    }
    if (origin) {
      // The H5 demo calls these from the shop's page, on another port of this machine.
      res.set({
        'Access-Control-Allow-Origin': origin,
        Vary: 'Origin',
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Allow-Methods': 'GET, POST',
      });
    }
    if (req.method === 'OPTIONS') return res.status(204).end();
    next();
  });
  r.use(express.json({ limit: '8kb' }));

  r.post('/login', (req, res) => {
    const user = (req.body as { user?: unknown } | undefined)?.user;
    if (user !== undefined && (typeof user !== 'string' || !/^[\w-]{1,64}$/.test(user))) {
      return res.status(400).json({ errMsg: 'login:fail user must be 1-64 letters, digits, _ or -' });
    }
    const { code } = issueCode(s, user as string | undefined);
    res.json({ errMsg: 'login:ok', code });
  });

  const prepayOf = (pkg: unknown) => {
    const m = typeof pkg === 'string' ? /^prepay_id=(\S+)$/.exec(pkg) : null;
    const p = m ? s.prepays.get(m[1]!) : undefined;
    const o = p ? s.orders.get(p.outTradeNo) : undefined;
    return p && o ? { prepay: p, order: current(s, o) } : null;
  };

  // What the payment sheet shows: amount and description for a prepay_id.
  r.get('/prepay/:id', (req, res) => {
    const found = prepayOf(`prepay_id=${req.params.id}`);
    if (!found) return res.status(404).json({ errMsg: 'prepay_id not found' });
    res.json({ total: found.order.body.amount.total, description: found.order.body.description, state: found.order.state });
  });

  r.post('/pay', (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const fail = (status: number, detail: string) => res.status(status).json({ errMsg: `requestPayment:fail ${detail}` });
    for (const f of ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) {
      if (typeof b[f] !== 'string' || !b[f]) return fail(400, `调用支付JSAPI缺少参数：${f}`);
    }
    if (!/^\d{10}$/.test(b.timeStamp as string)) return fail(400, 'timeStamp must be a 10-digit string of seconds');
    if (!['RSA', 'MD5', 'HMAC-SHA256'].includes(b.signType as string))
      return fail(400, `signType must be RSA (API v3), MD5 or HMAC-SHA256 (API v2); got ${String(b.signType)}`);
    const found = prepayOf(b.package);
    if (!found) return fail(400, 'package must be prepay_id=<a prepay_id issued by WeChat Pay>');
    if (found.prepay.expiresAt <= s.now()) return fail(400, 'prepay_id 已过期');
    const o = found.order;
    // As WeChat verifies it: RSA over four lines for v3; for v2, the APIv2 key over exactly appId,
    // nonceStr, package, signType and timeStamp, with the sign_type the order was placed with.
    if (o.api === 'v3') {
      if (b.signType !== 'RSA') return fail(400, `signType must be RSA for API v3 (got ${String(b.signType)})`);
      const message = paySignMessage(keys.appid, b.timeStamp as string, b.nonceStr as string, b.package as string);
      if (!rsaVerify(s.merchantPublicKey, message, b.paySign as string)) return fail(400, '支付验证签名失败');
    } else {
      if (b.signType !== o.signType)
        return fail(400, `signType must be ${o.signType}, the sign_type of unifiedorder (got ${String(b.signType)})`);
      const fields = {
        appId: keys.appid,
        nonceStr: b.nonceStr as string,
        package: b.package as string,
        signType: o.signType,
        timeStamp: b.timeStamp as string,
        sign: b.paySign as string,
      };
      if (!v2Verify(fields, keys.apiV2Key!, o.signType!)) return fail(400, '支付验证签名失败');
    }
    if (o.state === 'SUCCESS') return fail(409, '该订单已支付');
    if (o.state === 'CLOSED') return fail(409, '订单已关闭');
    const outcome = b.outcome ?? 'success';
    if (outcome === 'cancel') return res.json({ errMsg: 'requestPayment:fail cancel' });
    if (outcome === 'fail') return res.json({ errMsg: 'requestPayment:fail 支付失败，请稍后再试' });
    if (outcome !== 'success') return fail(400, 'outcome must be success, cancel or fail');
    markPaid(s, o);
    if (s.controls.dropNotifications > 0) {
      o.dropNotifications = true;
      s.controls.dropNotifications -= 1;
    }
    deliveries.schedule(o);
    res.json({ errMsg: 'requestPayment:ok' });
  });

  const finite = (n: number) => (Number.isFinite(n) ? n : true);
  const shown = (c: SandboxControls) => ({
    ...c,
    dropNotifications: finite(c.dropNotifications),
    dropRefundNotifications: finite(c.dropRefundNotifications),
  });
  r.get('/controls', (_req, res) => res.json(shown(s.controls)));
  // Actions beside the switches: a certificate rotated in (listed now; used now, or after `noticeMs` of sandbox
  // time) and one expired now.
  const actionsSchema = z.strictObject({
    rotateCertificate: z
      .union([
        z.literal(true),
        z.strictObject({ noticeMs: z.number().int().min(0).optional(), validDays: z.number().positive().max(3650).optional() }),
      ])
      .optional(),
    expireCertificate: z
      .string()
      .regex(/^[0-9A-Fa-f]{1,64}$/, 'a certificate serial (hex)')
      .optional(),
  });
  r.post('/controls', async (req, res) => {
    const {
      rotateCertificate: rotate,
      expireCertificate: expire,
      fileComplaint: complaint,
      ...switches
    } = (req.body ?? {}) as Record<string, unknown>;
    const actions = actionsSchema.safeParse({ rotateCertificate: rotate, expireCertificate: expire });
    if (!actions.success) {
      const issue = actions.error.issues[0]!;
      return res.status(400).json({ errMsg: `${issue.path.join('.')}: ${issue.message}` });
    }
    const done: Record<string, unknown> = {};
    if (complaint !== undefined) {
      const f = fileComplaintSchema.safeParse(complaint);
      if (!f.success) {
        const issue = f.error.issues[0]!;
        return res.status(400).json({ errMsg: `fileComplaint.${issue.path.join('.')}: ${issue.message}` });
      }
      try {
        const c = act.fileComplaint(f.data);
        done.complaint = { id: c.id, source: c.source };
      } catch (err) {
        return res.status(409).json({ errMsg: (err as Error).message });
      }
    }
    if (actions.data.expireCertificate) {
      const c = expireCertificate(s, actions.data.expireCertificate);
      if (!c) return res.status(404).json({ errMsg: `no certificate ${actions.data.expireCertificate}` });
      done.expired = c.serial;
    }
    if (actions.data.rotateCertificate) {
      const c = await rotateCertificate(s, actions.data.rotateCertificate === true ? {} : actions.data.rotateCertificate);
      done.rotated = { serial: c.serial, usableFrom: new Date(c.usableFrom).toISOString(), notAfter: new Date(c.notAfter).toISOString() };
    }
    if (Object.keys(switches).length === 0 && Object.keys(done).length) return res.json({ ...shown(s.controls), ...done });
    const body = switches as unknown;
    const unknown = body && typeof body === 'object' ? Object.keys(body).find((k) => !Object.hasOwn(DEFAULT_CONTROLS, k)) : undefined;
    if (unknown !== undefined) return res.status(400).json({ errMsg: `unknown control ${unknown}` });
    const parsed = controlsSchema.safeParse(body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return res.status(400).json({ errMsg: `${issue.path.join('.') || 'controls'}: ${issue.message}` });
    }
    const { dropNotifications, dropRefundNotifications, ...rest } = parsed.data;
    // JSON has no Infinity: `true` drops every notification from now on, `false` none.
    const count = (v: boolean | number) => (v === true ? Number.POSITIVE_INFINITY : v === false ? 0 : v);
    if (dropNotifications !== undefined) s.controls.dropNotifications = count(dropNotifications);
    if (dropRefundNotifications !== undefined) s.controls.dropRefundNotifications = count(dropRefundNotifications);
    Object.assign(s.controls, rest);
    res.json({ ...shown(s.controls), ...done });
  });
  r.get('/deliveries', (_req, res) => res.json({ deliveries: deliveries.records }));
  // The platform certificates as WeChat keeps them: which are listed, which one signs, which expired.
  r.get('/certificates', (_req, res) => {
    const signing = currentCertificate(s)?.serial ?? null;
    res.json({
      signWith: s.controls.signWith,
      signing,
      certificates: s.certificates.map((c) => ({
        serial: c.serial,
        notBefore: new Date(c.notBefore).toISOString(),
        notAfter: new Date(c.notAfter).toISOString(),
        usableFrom: Number.isFinite(c.usableFrom) ? new Date(c.usableFrom).toISOString() : null,
        expiredAt: c.expiredAt === null ? null : new Date(c.expiredAt).toISOString(),
        listed: listedCertificates(s).includes(c),
      })),
    });
  });
  return r;
}
