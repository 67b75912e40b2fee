// WeChat Pay's v3 refunds as api.mch.weixin.qq.com answers them: POST /v3/refund/domestic/refunds
// (idempotent on out_refund_no), GET …/refunds/{out_refund_no}, and REFUND.* notifications on
// WeChat's schedule. A refund answers PROCESSING, then ends as the refundOutcome switch says.
// Requests reach here authenticated by v3-pay.ts.
import express, { type Router } from 'express';
import type { Deliveries } from './delivery';
import { canonicalJson, refundable, refundOf, type SandboxState } from './state';
import type { V3Answers } from './v3-answers';
import { startRefund } from './refunds';

const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;

interface RefundBody {
  transaction_id?: unknown;
  out_trade_no?: unknown;
  out_refund_no?: unknown;
  reason?: unknown;
  notify_url?: unknown;
  amount?: { refund?: unknown; total?: unknown; currency?: unknown };
}

const textOf = (req: unknown): string => (req as { text?: string }).text ?? '';

export function refundRoutes(s: SandboxState, o: { answers: V3Answers; deliveries: Deliveries }): Router {
  const { sendSigned, v3Error } = o.answers;
  const r = express.Router();

  r.post('/v3/refund/domestic/refunds', (req, res) => {
    let b: RefundBody;
    try {
      b = JSON.parse(textOf(req)) as RefundBody;
    } catch {
      return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是合法的JSON');
    }
    if (!b || typeof b !== 'object' || Array.isArray(b)) return v3Error(req, res, 400, 'PARAM_ERROR', '请求体不是JSON对象');
    const bad = (field: string, value: unknown, issue: string) =>
      v3Error(req, res, 400, 'PARAM_ERROR', '参数错误', { field, value: value ?? null, issue, location: 'body' });
    if (b.transaction_id === undefined && b.out_trade_no === undefined)
      return bad('/transaction_id', null, 'transaction_id or out_trade_no is required');
    if (b.transaction_id !== undefined && typeof b.transaction_id !== 'string')
      return bad('/transaction_id', b.transaction_id, 'must be a string');
    if (b.out_trade_no !== undefined && typeof b.out_trade_no !== 'string') return bad('/out_trade_no', b.out_trade_no, 'must be a string');
    if (typeof b.out_refund_no !== 'string' || !OUT_REFUND_NO.test(b.out_refund_no))
      return bad('/out_refund_no', b.out_refund_no, 'must be 1..64 of [0-9A-Za-z_-|*@]');
    if (b.reason !== undefined && (typeof b.reason !== 'string' || [...b.reason].length > 80))
      return bad('/reason', b.reason, 'at most 80 characters');
    let notifyUrl: string | null = null;
    if (b.notify_url !== undefined) {
      try {
        if (typeof b.notify_url !== 'string' || b.notify_url.length > 256) throw new Error();
        notifyUrl = new URL(b.notify_url).toString();
      } catch {
        return bad('/notify_url', b.notify_url, 'must be an absolute URL');
      }
    }
    const a = b.amount;
    if (!a || !Number.isSafeInteger(a.refund) || (a.refund as number) <= 0)
      return bad('/amount/refund', a?.refund, 'must be a positive integer number of fen');
    if (!Number.isSafeInteger(a.total) || (a.total as number) <= 0)
      return bad('/amount/total', a.total, 'must be a positive integer number of fen');
    if (a.currency !== 'CNY') return bad('/amount/currency', a.currency, 'Currency code is invalid');

    const outTradeNo = typeof b.transaction_id === 'string' ? s.transactions.get(b.transaction_id) : (b.out_trade_no as string);
    const order = outTradeNo ? s.orders.get(outTradeNo) : undefined;
    if (order?.state !== 'SUCCESS') return v3Error(req, res, 404, 'RESOURCE_NOT_EXISTS', '订单不存在或未支付');
    if (typeof b.out_trade_no === 'string' && b.out_trade_no !== order.body.out_trade_no)
      return v3Error(req, res, 400, 'INVALID_REQUEST', 'transaction_id与out_trade_no不匹配');
    if (a.total !== order.body.amount.total) return v3Error(req, res, 400, 'INVALID_REQUEST', '订单金额与原订单不一致');
    const transactionId = typeof b.transaction_id === 'string' ? b.transaction_id : order.transactionId!;

    const canonical = canonicalJson({ ...b, transaction_id: transactionId, out_trade_no: order.body.out_trade_no });
    const existing = s.refunds.get(b.out_refund_no);
    if (existing) {
      // The same out_refund_no is the same refund: answered again as it stands; other parameters are refused.
      if (existing.canonical !== canonical) return v3Error(req, res, 400, 'INVALID_REQUEST', '退款单号已存在，且请求参数与之前不一致');
      return sendSigned(req, res, 200, refundOf(existing));
    }
    if ((a.refund as number) > refundable(s, transactionId)) return v3Error(req, res, 403, 'NOT_ENOUGH', '订单可退金额不足');

    const refund = startRefund(s, o.deliveries, {
      api: 'v3',
      canonical,
      outRefundNo: b.out_refund_no,
      outTradeNo: order.body.out_trade_no,
      transactionId,
      amount: a.refund as number,
      total: a.total as number,
      notifyUrl,
    });
    return sendSigned(req, res, 200, refundOf(refund));
  });

  r.get('/v3/refund/domestic/refunds/:no', (req, res) => {
    const refund = s.refunds.get(String(req.params.no));
    if (!refund) return v3Error(req, res, 404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    return sendSigned(req, res, 200, refundOf(refund));
  });
  return r;
}
