// Complaints as WeChat keeps them (complaints.md): a shopper files one against a paid order; the sandbox serves
// both systems with WeChat's validation and records what the merchant did.
// - PAY (消费者投诉2.0): the callback URL resource, COMPLAINT.* notifications on WeChat's schedule, the list,
//   detail (payer_phone RSA-OAEP encrypted to the merchant key), negotiation history, reply, refund decision,
//   complete; PENDING → PROCESSING on the first reply → PROCESSED on complete, a rejection, or the approved
//   refund arriving (REFUND_SUCCESS).
// - MINIPROGRAM (交易类投诉): a complaint_callback message push, complaintOrderDetail, bussiRespondComplaint,
//   bussiSupplyRefund; status 201 (48 h) → 203/206 → 209 closed.
// v3 requests reach here authenticated by v3-pay.ts; minishop requests pass the access-token check.
import crypto from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { beijingTimeMillis } from '../server/src/wechatpay/time';
import type { Deliveries } from './delivery';
import type { ShippingSandbox } from './shipping';
import type { SandboxState } from './state';
import type { V3Answers } from './v3-answers';

const HOUR = 3600_000;

export interface SandboxComplaint {
  source: 'PAY' | 'MINIPROGRAM';
  id: string;
  outTradeNo: string;
  transactionId: string;
  amount: number;
  openid: string;
  createdAt: number;
  /** PAY: PENDING, PROCESSING, PROCESSED. MINIPROGRAM: 201, 203, 206, 209. */
  state: string;
  expiresAt: number;
  problemType: 'REFUND' | 'OTHERS';
  refundAmount: number | null;
  detail: string;
  history: { at: number; operator: string; type: string; details: string }[];
  /** What the merchant did, for tests to assert. */
  merchant: { replies: string[]; refundDecision: { action: 'APPROVE' | 'REJECT'; reason: string | null } | null; completed: boolean };
}

const ACCEPTED_URL = /^https?:\/\/[^\s?#]+$/;

export interface SandboxComplaints {
  complaints: Map<string, SandboxComplaint>;
  notifyUrl(): string | null;
  /** A shopper files a complaint against a paid order (POST /sandbox/controls `fileComplaint`). */
  file(o: { outTradeNo: string; source: 'PAY' | 'MINIPROGRAM'; refundAmount?: number; text?: string }): SandboxComplaint;
  /** A refund of this transaction arrived: an approved complaint about it is resolved. */
  refundArrived(transactionId: string): void;
  v3Routes(answers: V3Answers): Router;
  miniRoutes: Router;
  controlRoutes: Router;
}

export function createSandboxComplaints(
  s: SandboxState,
  o: { deliveries: Deliveries; shipping: ShippingSandbox; allowHttp: boolean },
): SandboxComplaints {
  const complaints = new Map<string, SandboxComplaint>();
  let notifyUrl: string | null = null;
  const digits = (n: number) => Array.from(crypto.randomBytes(n), (b) => b % 10).join('');

  function notify(c: SandboxComplaint, action: string) {
    if (c.source !== 'PAY' || !notifyUrl) return;
    o.deliveries.scheduleComplaint(
      notifyUrl,
      c.id,
      () => ({ complaint_id: c.id, action_type: action }),
      action === 'CREATE_COMPLAINT' ? 'COMPLAINT.CREATE' : 'COMPLAINT.STATE_CHANGE',
    );
  }
  function push(c: SandboxComplaint) {
    void o.shipping.pushEvent(c.outTradeNo, 'complaint_callback', {
      appid: s.keys.appid,
      option_type: '1',
      complaint_order_id: c.id,
      status: c.state,
      create_time: String(Math.floor(c.createdAt / 1000)),
      expire_time: String(Math.floor(c.expiresAt / 1000)),
      type: '643',
      order_id: c.transactionId,
      out_trade_no: c.outTradeNo,
      open_id: c.openid,
      customer_material_content: c.detail,
      pay_time: String(Math.floor(c.createdAt / 1000)),
      total_cost: String(c.amount),
      history: c.history.map((h) => ({ time: String(Math.floor(h.at / 1000)), content: h.details })),
    });
  }
  const log = (c: SandboxComplaint, operator: string, type: string, details: string) => {
    c.history.push({ at: s.now(), operator, type, details });
  };

  function file(f: { outTradeNo: string; source: 'PAY' | 'MINIPROGRAM'; refundAmount?: number; text?: string }): SandboxComplaint {
    const order = s.orders.get(f.outTradeNo);
    if (order?.state !== 'SUCCESS' || !order.transactionId) throw new Error(`order ${f.outTradeNo} is not paid`);
    const refund = f.refundAmount ?? null;
    if (refund !== null && (!Number.isSafeInteger(refund) || refund <= 0 || refund > order.body.amount.total))
      throw new Error('refundAmount must be whole fen, at most the amount paid');
    const now = s.now();
    const c: SandboxComplaint = {
      source: f.source,
      // complaintOrderId travels as a JSON number: 15 digits stay exact.
      id: f.source === 'PAY' ? `2002${digits(23)}` : `1${digits(14)}`,
      outTradeNo: f.outTradeNo,
      transactionId: order.transactionId,
      amount: order.body.amount.total,
      openid: order.body.payer.openid,
      createdAt: now,
      state: f.source === 'PAY' ? 'PENDING' : '201',
      expiresAt: now + (f.source === 'PAY' ? 24 * HOUR : 48 * HOUR),
      problemType: refund !== null ? 'REFUND' : 'OTHERS',
      refundAmount: refund,
      detail: f.text ?? (refund !== null ? '商品与描述不符，申请退款' : '一直没有发货'),
      history: [],
      merchant: { replies: [], refundDecision: null, completed: false },
    };
    log(c, '投诉人', f.source === 'PAY' ? 'USER_CREATE_COMPLAINT' : 'USER', c.detail);
    complaints.set(c.id, c);
    if (c.source === 'PAY') notify(c, 'CREATE_COMPLAINT');
    else push(c);
    return c;
  }

  function refundArrived(transactionId: string) {
    for (const c of complaints.values()) {
      if (c.transactionId !== transactionId || c.merchant.refundDecision?.action !== 'APPROVE') continue;
      if (c.source === 'PAY' && c.state !== 'PROCESSED') {
        c.state = 'PROCESSED';
        log(c, '系统', 'COMPLAINT_REFUND_RECEIVED_SYSTEM_MESSAGE', '退款已到账');
        notify(c, 'REFUND_SUCCESS');
      } else if (c.source === 'MINIPROGRAM' && c.state !== '209') {
        c.state = '209';
        log(c, '系统', 'PLATFORM', '退款已到账，投诉已关闭');
        push(c);
      }
    }
  }

  // ——— PAY: /v3/merchant-service ———
  function v3Routes({ sendSigned, v3Error }: V3Answers): Router {
    const r = express.Router();
    const base = '/v3/merchant-service';
    const textOf = (req: Request): Record<string, unknown> | null => {
      try {
        const t = (req as unknown as { text?: string }).text ?? '';
        const v = t ? (JSON.parse(t) as unknown) : {};
        return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
      } catch {
        return null;
      }
    };
    const setUrl = (req: Request, res: Response) => {
      const b = textOf(req);
      const url = b?.url;
      if (typeof url !== 'string' || url.length > 255 || !ACCEPTED_URL.test(url) || (!o.allowHttp && !url.startsWith('https://')))
        return v3Error(req, res, 400, 'PARAM_ERROR', 'url 须为 https 地址，不带参数，不超过 255 个字符');
      notifyUrl = url;
      sendSigned(req, res, 200, { mchid: s.keys.mchid, url });
    };
    r.post(`${base}/complaint-notifications`, setUrl);
    r.put(`${base}/complaint-notifications`, setUrl);
    r.get(`${base}/complaint-notifications`, (req, res) =>
      notifyUrl
        ? sendSigned(req, res, 200, { mchid: s.keys.mchid, url: notifyUrl })
        : v3Error(req, res, 400, 'RESOURCE_NOT_EXISTS', '查询的通知回调不存在'),
    );
    r.delete(`${base}/complaint-notifications`, (req, res) => {
      notifyUrl = null;
      sendSigned(req, res, 204, null);
    });
    const detail = (c: SandboxComplaint) => ({
      complaint_id: c.id,
      complainted_mchid: s.keys.mchid,
      complaint_time: beijingTimeMillis(c.createdAt),
      complaint_detail: c.detail,
      complaint_state: c.state,
      payer_openid: c.openid,
      // Encrypted to the merchant's API key (RSA-OAEP, SHA-1), as WeChat does.
      payer_phone: crypto
        .publicEncrypt(
          { key: s.merchantPublicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          Buffer.from('13800138000'),
        )
        .toString('base64'),
      complaint_order_info: [{ transaction_id: c.transactionId, out_trade_no: c.outTradeNo, amount: c.amount }],
      complaint_full_refunded: false,
      incoming_user_response: false,
      problem_description: c.problemType === 'REFUND' ? '申请退款' : '不满意商家服务',
      user_complaint_times: 1,
      problem_type: c.problemType,
      ...(c.refundAmount !== null ? { apply_refund_amount: c.refundAmount } : {}),
    });
    const payComplaint = (req: Request, res: Response): SandboxComplaint | null => {
      const c = complaints.get(String(req.params.id));
      if (c?.source !== 'PAY') {
        v3Error(req, res, 404, 'RESOURCE_NOT_EXISTS', '投诉单不存在');
        return null;
      }
      return c;
    };
    r.get(`${base}/complaints-v2`, (req, res) => {
      const begin = String(req.query.begin_date ?? '');
      const end = String(req.query.end_date ?? '');
      const limit = req.query.limit === undefined ? 10 : Number(req.query.limit);
      const offset = req.query.offset === undefined ? 0 : Number(req.query.offset);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(begin) || !/^\d{4}-\d{2}-\d{2}$/.test(end))
        return v3Error(req, res, 400, 'PARAM_ERROR', 'begin_date 和 end_date 必填，格式 yyyy-MM-dd');
      const from = Date.parse(`${begin}T00:00:00+08:00`);
      const to = Date.parse(`${end}T00:00:00+08:00`) + 24 * HOUR;
      if (to - from > 31 * 24 * HOUR || to <= from) return v3Error(req, res, 400, 'PARAM_ERROR', '查询时间跨度不能超过30天');
      if (!Number.isInteger(limit) || limit < 1 || limit > 50 || !Number.isInteger(offset) || offset < 0)
        return v3Error(req, res, 400, 'PARAM_ERROR', 'limit 取值 [1,50]，offset 不小于 0');
      const all = [...complaints.values()].filter((c) => c.source === 'PAY' && c.createdAt >= from && c.createdAt < to);
      sendSigned(req, res, 200, {
        data: all.slice(offset, offset + limit).map(detail),
        limit,
        offset,
        ...(offset === 0 ? { total_count: all.length } : {}),
      });
    });
    r.get(`${base}/complaints-v2/:id`, (req, res) => {
      const c = payComplaint(req, res);
      if (c) sendSigned(req, res, 200, detail(c));
    });
    r.get(`${base}/complaints-v2/:id/negotiation-historys`, (req, res) => {
      const c = payComplaint(req, res);
      if (!c) return;
      const data = c.history.map((h, i) => ({
        log_id: `${c.id}-${i}`,
        operator: h.operator,
        operate_time: beijingTimeMillis(h.at),
        operate_type: h.type,
        operate_details: h.details,
        image_list: [],
      }));
      sendSigned(req, res, 200, { data, limit: 300, offset: 0, total_count: data.length });
    });
    r.post(`${base}/complaints-v2/:id/response`, (req, res) => {
      const c = payComplaint(req, res);
      if (!c) return;
      const b = textOf(req);
      if (b?.complainted_mchid !== s.keys.mchid) return v3Error(req, res, 400, 'PARAM_ERROR', 'complainted_mchid 必填且须为本商户号');
      const content = b.response_content;
      if (typeof content !== 'string' || !content || [...content].length > 200)
        return v3Error(req, res, 400, 'PARAM_ERROR', 'response_content 必填，不超过200字');
      if (c.state === 'PROCESSED') return v3Error(req, res, 400, 'INVALID_REQUEST', '投诉单已处理完成，不能回复');
      c.merchant.replies.push(content);
      log(c, '商户', 'MERCHANT_RESPONSE', content);
      if (c.state === 'PENDING') c.state = 'PROCESSING';
      sendSigned(req, res, 204, null);
    });
    r.post(`${base}/complaints-v2/:id/update-refund-progress`, (req, res) => {
      const c = payComplaint(req, res);
      if (!c) return;
      const b = textOf(req);
      const action = b?.action;
      if (action !== 'APPROVE' && action !== 'REJECT') return v3Error(req, res, 400, 'PARAM_ERROR', 'action 须为 APPROVE 或 REJECT');
      if (c.problemType !== 'REFUND') return v3Error(req, res, 400, 'INVALID_REQUEST', '该投诉单不是申请退款类型');
      if (action === 'REJECT' && b!.launch_refund_day !== undefined)
        return v3Error(req, res, 400, 'PARAM_ERROR', 'launch_refund_day 仅在 APPROVE 时填写');
      if (action === 'REJECT' && (typeof b!.reject_reason !== 'string' || !b!.reject_reason || [...b!.reject_reason].length > 200))
        return v3Error(req, res, 400, 'PARAM_ERROR', 'reject_reason 必填，不超过200字');
      if (c.merchant.refundDecision || c.state === 'PROCESSED') return v3Error(req, res, 400, 'INVALID_REQUEST', '退款审批已处理');
      c.merchant.refundDecision = { action, reason: action === 'REJECT' ? String(b!.reject_reason) : null };
      if (action === 'REJECT') {
        c.state = 'PROCESSED';
        log(c, '商户', 'MERCHANT_REFUSE_RERUND', String(b!.reject_reason));
      } else {
        if (c.state === 'PENDING') c.state = 'PROCESSING';
        log(c, '商户', 'MERCHANT_APPROVE_REFUND', '商户同意退款');
      }
      sendSigned(req, res, 204, null);
    });
    r.post(`${base}/complaints-v2/:id/complete`, (req, res) => {
      const c = payComplaint(req, res);
      if (!c) return;
      if (textOf(req)?.complainted_mchid !== s.keys.mchid)
        return v3Error(req, res, 400, 'PARAM_ERROR', 'complainted_mchid 必填且须为本商户号');
      if (c.state === 'PENDING') return v3Error(req, res, 400, 'INVALID_REQUEST', '请先回复用户再处理完成');
      c.merchant.completed = true;
      if (c.state !== 'PROCESSED') {
        c.state = 'PROCESSED';
        log(c, '商户', 'MERCHANT_CONFIRM_COMPLETE', '商户已处理完成');
      }
      sendSigned(req, res, 204, null);
    });
    return r;
  }

  // ——— MINIPROGRAM: /wxaapi/minishop ———
  const miniRoutes = express.Router();
  const answer = (res: Response, errcode: number, errmsg: string, extra: Record<string, unknown> = {}) =>
    res.json({ errcode, errmsg, ...extra });
  const miniComplaint = (res: Response, b: Record<string, unknown>): SandboxComplaint | null => {
    const c = complaints.get(String(b.complaintOrderId ?? ''));
    if (c?.source !== 'MINIPROGRAM') {
      answer(res, 1, 'order number does not exist');
      return null;
    }
    return c;
  };
  const content = (b: Record<string, unknown>) => (typeof b.content === 'string' && b.content.trim() ? b.content : null);
  miniRoutes.post(
    '/wxaapi/minishop/complaintOrderDetail',
    ...o.shipping.business((_req, res, b) => {
      const c = miniComplaint(res, b);
      if (!c) return;
      answer(res, 0, 'ok', {
        complaintOrder: {
          complaintOrderId: Number(c.id),
          openid: c.openid,
          createTime: Math.floor(c.createdAt / 1000),
          phoneNumber: '13800138000',
          type: 643,
          status: Number(c.state),
          customerMaterial: { content: c.detail, mediaIdList: [] },
          orderId: c.transactionId,
          outTradeNo: c.outTradeNo,
          productName: s.orders.get(c.outTradeNo)?.body.description ?? '',
          payTime: Math.floor(c.createdAt / 1000),
          totalCost: c.amount,
          expireTime: c.state === '209' ? 0 : Math.floor(c.expiresAt / 1000),
        },
        item: c.history.map((h) => ({ itemType: h.type, time: Math.floor(h.at / 1000), content: h.details, mediaIdList: [] })),
      });
    }),
  );
  miniRoutes.post(
    '/wxaapi/minishop/bussiRespondComplaint',
    ...o.shipping.business((_req, res, b) => {
      const c = miniComplaint(res, b);
      if (!c) return;
      const text = content(b);
      if (!text && !Array.isArray(b.mediaIdList)) return answer(res, 2, '内容或者图片不能为空');
      if (c.state !== '201' && c.state !== '203') return answer(res, 1002, 'this operation is not allowed in the current status');
      if (b.bussiHandle === 1 || b.bussiHandle === 2) {
        if (c.merchant.refundDecision) return answer(res, 309, 'status changed');
        c.merchant.refundDecision = { action: b.bussiHandle === 1 ? 'APPROVE' : 'REJECT', reason: b.bussiHandle === 2 ? text : null };
        c.state = b.bussiHandle === 1 ? '206' : '203';
        c.expiresAt = s.now() + 48 * HOUR;
      } else c.state = '203';
      if (text) c.merchant.replies.push(text);
      log(c, '商家', 'MERCHANT', text ?? '');
      answer(res, 0, 'ok');
    }),
  );
  miniRoutes.post(
    '/wxaapi/minishop/bussiSupplyRefund',
    ...o.shipping.business((_req, res, b) => {
      const c = miniComplaint(res, b);
      if (!c) return;
      if (!content(b) && !Array.isArray(b.mediaIdList)) return answer(res, 2, '内容或者图片不能为空');
      if (c.state === '209') return answer(res, 309, 'status changed');
      c.merchant.completed = true;
      c.state = '209';
      log(c, '商家', 'MERCHANT', content(b) ?? '');
      answer(res, 0, 'ok');
    }),
  );

  // ——— Loopback controls ———
  const controlRoutes = express.Router();
  controlRoutes.get('/complaints/:id', (req, res) => {
    const c = complaints.get(String(req.params.id));
    if (!c) return res.status(404).json({ errMsg: `no complaint ${String(req.params.id)}` });
    res.json(c);
  });
  // Points the complaint notifications elsewhere (a test loses one), as WeChat's stored URL would.
  controlRoutes.post('/complaint-url', express.json(), (req, res) => {
    const url = (req.body as { url?: unknown } | undefined)?.url;
    if (typeof url !== 'string' || !ACCEPTED_URL.test(url)) return res.status(400).json({ errMsg: 'url: an http(s) URL' });
    notifyUrl = url;
    res.json({ url });
  });
  controlRoutes.post('/complaints/:id/expire', (req, res) => {
    const c = complaints.get(String(req.params.id));
    if (!c) return res.status(404).json({ errMsg: `no complaint ${String(req.params.id)}` });
    c.expiresAt = s.now(); // its deadline passes now, sandbox time
    res.json(c);
  });

  return { complaints, notifyUrl: () => notifyUrl, file, refundArrived, v3Routes, miniRoutes, controlRoutes };
}
