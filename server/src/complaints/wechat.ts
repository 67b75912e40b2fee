// The complaint-provider port over WeChat's two complaint systems (complaints.md):
// - PAY, WeChat Pay's consumer complaints 2.0: v3 calls under /v3/merchant-service (signed, answers verified),
//   notifications verified and decrypted like payment notifications, the payer's phone RSA-OAEP(SHA-1)
//   encrypted to the merchant key;
// - MINIPROGRAM, the mini program's trade complaints: /wxaapi/minishop calls with the access token, pushes
//   read by the shipping provider.
// States and fields are mapped to the shop's words here; nothing is decided.
import crypto, { type KeyObject } from 'node:crypto';
import type { ComplaintEvent, ComplaintState } from '../domain/complaint';
import {
  type ComplaintProvider,
  ComplaintProviderError,
  type ComplaintRef,
  type ProviderComplaint,
} from '../domain/ports/complaint-provider';
import { WechatApiError, type WechatAnswer } from '../wechat/access-token';
import type { WechatPayClient } from '../wechatpay/client';
import { WechatPayError } from '../wechatpay/errors';
import { NotificationRejected, parseNotification, rejectionOf, signatureHeadersOf } from '../wechatpay/notification';
import type { Verifier } from '../wechatpay/verifier';

export interface WechatComplaintsOptions {
  mchid: string;
  /** PAY: the v3 client, the verifier and APIv3 key for notifications, the merchant key for the payer's phone; null on API v2. */
  pay: { client: WechatPayClient; verifier: Verifier; apiV3Key: string; merchantKey: KeyObject } | null;
  /** MINIPROGRAM: the mini-program API client (access token). */
  miniprogram: { request(path: string, body: unknown): Promise<WechatAnswer> };
  now: () => number;
}

const PAY_STATE: Record<string, ComplaintState> = { PENDING: 'NEW', PROCESSING: 'IN_PROGRESS', PROCESSED: 'RESOLVED' };
/** Trade complaint statuses (complaints.md §16): 201 and 206 wait on the merchant; the closed ones are resolved. */
const MINIPROGRAM_RESOLVED = new Set([102, 112, 115, 116, 205, 209]);
const minishopState = (status: number): ComplaintState =>
  status === 201 ? 'NEW' : MINIPROGRAM_RESOLVED.has(status) ? 'RESOLVED' : 'IN_PROGRESS';

const actorOfOperateType = (t: string): ComplaintEvent['actor'] =>
  t.startsWith('USER_') ? 'SHOPPER' : t.startsWith('MERCHANT_') ? 'MERCHANT' : t.startsWith('PLATFORM') ? 'PLATFORM' : 'SYSTEM';

function payFailure(err: unknown): never {
  if (err instanceof WechatPayError)
    throw new ComplaintProviderError(
      err.message,
      err.code,
      err.kind === 'API' && err.httpStatus !== null && err.httpStatus < 500 && err.code !== 'FREQUENCY_LIMITED',
    );
  throw err;
}
function miniFailure(err: unknown): never {
  if (err instanceof WechatApiError)
    throw new ComplaintProviderError(
      err.message,
      err.errcode === null ? null : String(err.errcode),
      err.errcode !== null && err.errcode !== -1,
    );
  throw err;
}

export function createWechatComplaints(o: WechatComplaintsOptions): ComplaintProvider {
  const pay = () => {
    if (!o.pay) throw new ComplaintProviderError('WeChat Pay consumer complaints need API v3 (WECHATPAY_API_VERSION=v3)', 'API_V2', true);
    return o.pay;
  };
  const v3 = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    try {
      const { text } = await pay().client.signed(method, path, body === undefined ? '' : JSON.stringify(body));
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch (err) {
      return payFailure(err);
    }
  };
  const base = '/v3/merchant-service';
  const phone = (encrypted: unknown): string | null => {
    if (typeof encrypted !== 'string' || !encrypted) return null;
    try {
      return crypto
        .privateDecrypt(
          { key: pay().merchantKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          Buffer.from(encrypted, 'base64'),
        )
        .toString('utf8');
    } catch {
      return null; // not decryptable with our key: not stored
    }
  };

  async function fetchPay(id: string): Promise<ProviderComplaint | null> {
    let d: Record<string, unknown>;
    try {
      d = await v3('GET', `${base}/complaints-v2/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ComplaintProviderError && err.providerCode === 'RESOURCE_NOT_EXISTS') return null;
      throw err;
    }
    const history = await v3('GET', `${base}/complaints-v2/${encodeURIComponent(id)}/negotiation-historys?limit=300&offset=0`);
    const orders = (d.complaint_order_info as { transaction_id?: string; out_trade_no?: string }[] | undefined) ?? [];
    const events = ((history.data as Record<string, unknown>[] | undefined) ?? []).map(
      (h): ComplaintEvent => ({
        at: Date.parse(String(h.operate_time ?? '')) || o.now(),
        actor: actorOfOperateType(String(h.operate_type ?? '')),
        kind: String(h.operate_type ?? ''),
        text: String(h.operate_details ?? ''),
      }),
    );
    return {
      source: 'PAY',
      id,
      outTradeNo: orders[0]?.out_trade_no ?? null,
      transactionId: orders[0]?.transaction_id ?? null,
      state: PAY_STATE[String(d.complaint_state)] ?? 'IN_PROGRESS',
      createdAt: Date.parse(String(d.complaint_time ?? '')) || o.now(),
      deadline: null,
      problem: [d.problem_description, d.complaint_detail].filter((x) => typeof x === 'string' && x).join('：'),
      refundRequested: d.problem_type === 'REFUND' && typeof d.apply_refund_amount === 'number' ? d.apply_refund_amount : null,
      payerPhone: phone(d.payer_phone),
      events,
    };
  }

  const mini = async (path: string, body: unknown) => {
    try {
      return await o.miniprogram.request(`/wxaapi/minishop/${path}`, body);
    } catch (err) {
      return miniFailure(err);
    }
  };

  async function fetchMini(id: string): Promise<ProviderComplaint | null> {
    let a: WechatAnswer;
    try {
      a = await mini('complaintOrderDetail', { complaintOrderId: Number(id) });
    } catch (err) {
      if (err instanceof ComplaintProviderError && err.providerCode === '1') return null; // order number does not exist
      throw err;
    }
    const c = (a.complaintOrder ?? {}) as Record<string, unknown>;
    const items = (a.item as Record<string, unknown>[] | undefined) ?? [];
    const status = Number(c.status ?? 0);
    const expire = Number(c.expireTime ?? 0);
    const material = (c.customerMaterial ?? {}) as { content?: string };
    return {
      source: 'MINIPROGRAM',
      id,
      outTradeNo: typeof c.outTradeNo === 'string' ? c.outTradeNo : null,
      transactionId: typeof c.orderId === 'string' ? c.orderId : null,
      state: minishopState(status),
      createdAt: Number(c.createTime ?? 0) * 1000 || o.now(),
      deadline: expire > 0 ? expire * 1000 : null,
      problem: material.content ?? '',
      refundRequested: typeof c.totalCost === 'number' ? c.totalCost : null,
      payerPhone: typeof c.phoneNumber === 'string' && c.phoneNumber ? c.phoneNumber : null,
      events: items.map(
        (i): ComplaintEvent => ({
          at: Number(i.time ?? 0) * 1000 || o.now(),
          actor: i.itemType === 'MERCHANT' ? 'MERCHANT' : i.itemType === 'PLATFORM' ? 'PLATFORM' : 'SHOPPER',
          kind: String(i.itemType ?? ''),
          text: String(i.content ?? ''),
        }),
      ),
    };
  }

  return {
    async registerNotificationUrl(url) {
      const current = await this.notificationUrl();
      if (current === url) return;
      await v3(current === null ? 'POST' : 'PUT', `${base}/complaint-notifications`, { url });
    },
    async notificationUrl() {
      try {
        const a = await v3('GET', `${base}/complaint-notifications`);
        return typeof a.url === 'string' ? a.url : null;
      } catch (err) {
        if (err instanceof ComplaintProviderError && err.providerCode === 'RESOURCE_NOT_EXISTS') return null;
        throw err;
      }
    },
    parseNotification({ headers, body }) {
      const p = o.pay;
      if (!p) return { ok: false, refusal: { reason: 'API_V2', message: 'complaint notifications need API v3', unauthentic: false } };
      try {
        const n = parseNotification({ verifier: p.verifier, apiV3Key: p.apiV3Key, nowMs: o.now }, signatureHeadersOf(headers), body);
        if (!n.complaint)
          return {
            ok: false,
            refusal: { reason: 'NOT_A_COMPLAINT', message: `${n.eventType} is not a complaint event`, unauthentic: false },
          };
        return { ok: true, notificationId: n.id, ref: { source: 'PAY', id: n.complaint.complaint_id } };
      } catch (err) {
        if (!(err instanceof NotificationRejected)) throw err;
        return { ok: false, refusal: rejectionOf(err, headers) };
      }
    },
    fetch: (ref: ComplaintRef) => (ref.source === 'PAY' ? fetchPay(ref.id) : fetchMini(ref.id)),
    async listRecent(since, now) {
      if (!o.pay) return [];
      const day = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
      const refs: ComplaintRef[] = [];
      for (let offset = 0; ; offset += 50) {
        const a = await v3('GET', `${base}/complaints-v2?limit=50&offset=${offset}&begin_date=${day(since)}&end_date=${day(now)}`);
        const data = (a.data as { complaint_id: string }[] | undefined) ?? [];
        for (const c of data) refs.push({ source: 'PAY', id: c.complaint_id });
        if (data.length < 50) return refs;
      }
    },
    async reply(ref, text) {
      if (ref.source === 'PAY')
        await v3('POST', `${base}/complaints-v2/${encodeURIComponent(ref.id)}/response`, {
          complainted_mchid: o.mchid,
          response_content: text,
        });
      else await mini('bussiRespondComplaint', { complaintOrderId: Number(ref.id), content: text });
    },
    async decideRefund(ref, d) {
      if (ref.source === 'PAY')
        await v3(
          'POST',
          `${base}/complaints-v2/${encodeURIComponent(ref.id)}/update-refund-progress`,
          d.approve ? { action: 'APPROVE', launch_refund_day: 0 } : { action: 'REJECT', reject_reason: d.reason },
        );
      // Trade complaints: agreeing to settle (1) or refusing (2) is the merchant's response.
      else
        await mini('bussiRespondComplaint', {
          complaintOrderId: Number(ref.id),
          content: d.approve ? '同意退款' : d.reason,
          bussiHandle: d.approve ? 1 : 2,
        });
    },
    async complete(ref) {
      if (ref.source === 'PAY')
        await v3('POST', `${base}/complaints-v2/${encodeURIComponent(ref.id)}/complete`, { complainted_mchid: o.mchid });
      // Trade complaints close on the platform's side; completing is uploading the handling voucher.
      else await mini('bussiSupplyRefund', { complaintOrderId: Number(ref.id), content: '已处理完成' });
    },
  };
}
