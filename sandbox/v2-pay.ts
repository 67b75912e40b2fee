// WeChat Pay API v2 as api.mch.weixin.qq.com answers it: XML in and out, HTTP 200 always, two result
// levels, every SUCCESS answer signed. /pay/unifiedorder, /pay/orderquery, /pay/closeorder,
// /pay/refundquery here; /secapi/pay/refund only on the mutual-TLS listener (v2Routes({ tls: true })).
import crypto from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import express, { type Request, type Response, type Router } from 'express';
import { randomNonce } from '../server/src/wechatpay/crypto';
import { beijingCompact } from '../server/src/wechatpay/time';
import { declaredSignType, v2Sign, v2Verify, type V2SignType } from '../server/src/wechatpay/v2/sign';
import { buildV2Xml, parseV2Xml } from '../server/src/wechatpay/v2/xml';
import type { Deliveries } from './delivery';
import { startRefund } from './refunds';
import { beijingSpaced, REFUND_STATUS_V2 } from './v2-notify';
import { canonicalJson, current, refundable, type SandboxOrder, type SandboxRefund, type SandboxState } from './state';

const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const PREPAY_TTL_MS = 2 * 3600_000;

export function v2Routes(s: SandboxState, o: { deliveries: Deliveries; tls: boolean }): Router {
  const { keys } = s;
  const apiKey = keys.apiV2Key!;
  const r = express.Router();

  const xml = (res: Response, fields: Record<string, string | number | undefined>) => res.type('text/xml').send(buildV2Xml(fields));
  const returnFail = (res: Response, msg: string) => xml(res, { return_code: 'FAIL', return_msg: msg });
  /** A signed answer, as WeChat gives one when return_code is SUCCESS. */
  const answer = (res: Response, signType: V2SignType, fields: Record<string, string | number | undefined>) => {
    const body: Record<string, string | number | undefined> = {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: keys.appid,
      mch_id: keys.mchid,
      nonce_str: randomNonce(32),
      ...fields,
    };
    body.sign = v2Sign(body, apiKey, signType);
    return xml(res, body);
  };
  const businessFail = (res: Response, signType: V2SignType, code: string, des: string) =>
    answer(res, signType, { result_code: 'FAIL', err_code: code, err_code_des: des });

  /** Every v2 call: POST, well-formed XML, our appid and mch_id, a valid sign. Returns the fields, or answers itself. */
  function authenticated(req: Request, res: Response): { p: Record<string, string>; signType: V2SignType } | null {
    if (req.method !== 'POST') {
      returnFail(res, 'REQUIRE_POST_METHOD 请使用post方法');
      return null;
    }
    const text = typeof req.body === 'string' ? req.body : '';
    if (!text) {
      returnFail(res, 'POST_DATA_EMPTY post数据为空');
      return null;
    }
    let p: Record<string, string>;
    try {
      p = parseV2Xml(text);
    } catch {
      returnFail(res, 'XML_FORMAT_ERROR XML格式错误');
      return null;
    }
    const signType = declaredSignType(p);
    if (!signType) {
      returnFail(res, 'sign_type 不支持');
      return null;
    }
    if (!p.sign || !v2Verify(p, apiKey, signType)) {
      returnFail(res, '签名错误');
      return null;
    }
    if (p.appid !== keys.appid || p.mch_id !== keys.mchid) {
      businessFail(res, signType, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
      return null;
    }
    return { p, signType };
  }

  const text = express.text({ type: () => true, limit: '64kb' });

  function orderFields(order: SandboxOrder): Record<string, string | number | undefined> {
    const paid = order.state === 'SUCCESS';
    return {
      result_code: 'SUCCESS',
      out_trade_no: order.body.out_trade_no,
      openid: order.body.payer.openid,
      trade_type: 'JSAPI',
      trade_state: order.state,
      trade_state_desc: { NOTPAY: '订单未支付', SUCCESS: '支付成功', CLOSED: '订单已关闭' }[order.state],
      total_fee: order.body.amount.total,
      fee_type: 'CNY',
      ...(paid
        ? {
            transaction_id: order.transactionId!,
            time_end: beijingCompact(Date.parse(order.successTime!)),
            bank_type: 'OTHERS',
            cash_fee: order.body.amount.total,
            is_subscribe: 'N',
          }
        : {}),
    };
  }

  if (!o.tls) {
    r.all('/pay/unifiedorder', text, async (req, res) => {
      if (s.controls.prepayDelayMs) await new Promise((done) => setTimeout(done, s.controls.prepayDelayMs).unref());
      const auth = authenticated(req, res);
      if (!auth) return;
      const { p, signType } = auth;
      const forced = s.controls.failPrepay;
      if (forced && forced.times > 0) {
        forced.times -= 1; // v2 answers HTTP 200 with the code in the XML, whatever the status asked for
        return businessFail(res, signType, forced.code.replaceAll('_', '') === 'SYSTEMERROR' ? 'SYSTEMERROR' : forced.code, forced.message);
      }
      const lack = ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type', 'nonce_str'].find((k) => !p[k]);
      if (lack) return businessFail(res, signType, 'LACK_PARAMS', `缺少参数${lack}`);
      if (p.trade_type !== 'JSAPI') return businessFail(res, signType, 'INVALID_REQUEST', 'trade_type 只支持 JSAPI');
      if (!p.openid) return businessFail(res, signType, 'LACK_PARAMS', 'trade_type=JSAPI时，openid为必填参数');
      if (!OUT_TRADE_NO.test(p.out_trade_no!)) return businessFail(res, signType, 'INVALID_REQUEST', 'out_trade_no 格式错误');
      if (!/^[1-9]\d*$/.test(p.total_fee!)) return businessFail(res, signType, 'INVALID_REQUEST', 'total_fee 必须为正整数（分）');
      if ([...p.body!].length > 128) return businessFail(res, signType, 'INVALID_REQUEST', 'body 长度超过128');
      let notify: URL;
      try {
        notify = new URL(p.notify_url!);
      } catch {
        return businessFail(res, signType, 'INVALID_REQUEST', 'notify_url 格式错误');
      }
      if (notify.search) return businessFail(res, signType, 'INVALID_REQUEST', 'notify_url 不能携带参数');
      let expiresAt = s.now() + 7 * 24 * 3600_000;
      if (p.time_expire) {
        const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(p.time_expire);
        if (!m) return businessFail(res, signType, 'INVALID_REQUEST', 'time_expire 格式错误');
        expiresAt = Math.max(Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00`), s.now() + 60_000);
      }
      if (!s.openids.has(p.openid)) return businessFail(res, signType, 'INVALID_REQUEST', 'openid和appid不匹配');
      const { nonce_str: _n, sign: _s, sign_type: _t, ...stable } = p;
      const canonical = canonicalJson(stable);
      const existing = s.orders.get(p.out_trade_no!);
      if (existing) {
        current(s, existing);
        if (existing.state === 'SUCCESS') return businessFail(res, signType, 'ORDERPAID', '该订单已支付');
        if (existing.state === 'CLOSED') return businessFail(res, signType, 'ORDERCLOSED', '订单已关闭');
        if (existing.canonical !== canonical) return businessFail(res, signType, 'OUT_TRADE_NO_USED', '商户订单号重复');
      } else {
        s.orders.set(p.out_trade_no!, {
          api: 'v2',
          signType,
          canonical,
          body: {
            appid: p.appid!,
            mchid: p.mch_id!,
            description: p.body!,
            out_trade_no: p.out_trade_no!,
            notify_url: p.notify_url!,
            amount: { total: Number(p.total_fee) },
            payer: { openid: p.openid },
          },
          state: 'NOTPAY',
          createdAt: s.now(),
          expiresAt,
          transactionId: null,
          successTime: null,
          dropNotifications: false,
        });
      }
      const prepayId = `wx${beijingCompact(s.now())}${crypto.randomBytes(10).toString('hex')}`;
      s.prepays.set(prepayId, { outTradeNo: p.out_trade_no!, expiresAt: s.now() + PREPAY_TTL_MS });
      return answer(res, signType, { result_code: 'SUCCESS', trade_type: 'JSAPI', prepay_id: prepayId });
    });

    r.all('/pay/orderquery', text, (req, res) => {
      const auth = authenticated(req, res);
      if (!auth) return;
      const no = auth.p.transaction_id ? s.transactions.get(auth.p.transaction_id) : auth.p.out_trade_no;
      const order = no ? s.orders.get(no) : undefined;
      if (!order) return businessFail(res, auth.signType, 'ORDERNOTEXIST', '订单不存在');
      return answer(res, auth.signType, orderFields(current(s, order)));
    });

    r.all('/pay/closeorder', text, (req, res) => {
      const auth = authenticated(req, res);
      if (!auth) return;
      const order = s.orders.get(auth.p.out_trade_no ?? '');
      if (!order) return businessFail(res, auth.signType, 'ORDERNOTEXIST', '订单不存在');
      const state = current(s, order).state;
      if (state === 'SUCCESS') return businessFail(res, auth.signType, 'ORDERPAID', '订单已支付');
      // v3 answers a repeated close 204; v2 documents ORDERCLOSED for it.
      if (state === 'CLOSED') return businessFail(res, auth.signType, 'ORDERCLOSED', '订单已关闭');
      order.state = 'CLOSED';
      return answer(res, auth.signType, { result_code: 'SUCCESS' });
    });

    r.all('/pay/refundquery', text, (req, res) => {
      const auth = authenticated(req, res);
      if (!auth) return;
      const refund = s.refunds.get(auth.p.out_refund_no ?? '');
      if (!refund) return businessFail(res, auth.signType, 'REFUNDNOTEXIST', '退款订单查询失败');
      return answer(res, auth.signType, {
        result_code: 'SUCCESS',
        transaction_id: refund.transactionId,
        out_trade_no: refund.outTradeNo,
        total_fee: refund.total,
        refund_count: 1,
        out_refund_no_0: refund.outRefundNo,
        refund_id_0: refund.refundId,
        refund_fee_0: refund.amount,
        refund_status_0: REFUND_STATUS_V2[refund.status],
        ...(refund.successTime ? { refund_success_time_0: beijingSpaced(Date.parse(refund.successTime)) } : {}),
      });
    });
    return r;
  }

  // The mutual-TLS listener: the handshake already demanded a certificate from the sandbox's CA; the
  // certificate must also be this merchant's.
  r.all('/secapi/pay/refund', text, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    if (!peer || peer.subject?.CN !== keys.mchid) return returnFail(res, '证书已过期或不匹配：请使用商户API证书');
    const auth = authenticated(req, res);
    if (!auth) return;
    const { p, signType } = auth;
    const lack = ['out_refund_no', 'total_fee', 'refund_fee'].find((k) => !p[k]);
    if (lack) return businessFail(res, signType, 'LACK_PARAMS', `缺少参数${lack}`);
    if (!OUT_REFUND_NO.test(p.out_refund_no!)) return businessFail(res, signType, 'INVALID_REQUEST', 'out_refund_no 格式错误');
    const no = p.transaction_id ? s.transactions.get(p.transaction_id) : p.out_trade_no;
    const order = no ? s.orders.get(no) : undefined;
    if (order?.state !== 'SUCCESS') return businessFail(res, signType, 'ORDERNOTEXIST', '订单不存在或未支付');
    if (Number(p.total_fee) !== order.body.amount.total)
      return businessFail(res, signType, 'INVALID_REQUEST', '订单金额或退款金额与之前请求不一致');
    const transactionId = p.transaction_id ?? order.transactionId!;
    const { nonce_str: _n, sign: _s, sign_type: _t, ...stable } = p;
    const canonical = canonicalJson({ ...stable, transaction_id: transactionId });
    const existing = s.refunds.get(p.out_refund_no!);
    const refundAnswer = (refund: SandboxRefund) =>
      answer(res, signType, {
        result_code: 'SUCCESS',
        transaction_id: refund.transactionId,
        out_trade_no: refund.outTradeNo,
        out_refund_no: refund.outRefundNo,
        refund_id: refund.refundId,
        refund_fee: refund.amount,
        total_fee: refund.total,
        cash_fee: refund.total,
      });
    if (existing) {
      if (existing.canonical !== canonical)
        return businessFail(res, signType, 'INVALID_REQUEST', '订单金额或退款金额与之前请求不一致，请核实后再试');
      return refundAnswer(existing);
    }
    const amount = Number(p.refund_fee);
    if (!Number.isSafeInteger(amount) || amount <= 0)
      return businessFail(res, signType, 'INVALID_REQUEST', 'refund_fee 必须为正整数（分）');
    // Beyond what was paid or what remains is the request's fault: WeChat answers INVALID_REQUEST "invalid
    // refund_fee". (NOTENOUGH is the merchant's own balance: a merchant told that would top up and retry.)
    if (amount > refundable(s, transactionId)) return businessFail(res, signType, 'INVALID_REQUEST', 'invalid refund_fee');
    const refund = startRefund(s, o.deliveries, {
      api: 'v2',
      canonical,
      outRefundNo: p.out_refund_no!,
      outTradeNo: order.body.out_trade_no,
      transactionId,
      amount,
      total: order.body.amount.total,
      notifyUrl: p.notify_url || order.body.notify_url,
    });
    return refundAnswer(refund);
  });
  return r;
}
