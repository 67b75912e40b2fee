// The payment-provider port over WeChat Pay API v3: JSON bodies, RSA signatures, AES-GCM
// notifications. Maps WeChat's vocabulary (trade_state, error codes) to the shop's.
import type { Clock } from '../clock';
import { type BillLink, createWechatPayClient, type JsapiOrder, type WechatPayClient } from '../wechatpay/client';
import { WechatPayError } from '../wechatpay/errors';
import { readyBill } from './bill-stream';
import { signRequestPayment, type Merchant } from '../wechatpay/merchant';
import { NotificationRejected, parseNotification, rejectionOf, signatureHeadersOf } from '../wechatpay/notification';
import { refundStatusOf, type RefundOrder, type WechatRefund } from '../wechatpay/refund';
import { beijingTime } from '../wechatpay/time';
import type { Transaction } from '../wechatpay/transaction';
import type { Verifier } from '../wechatpay/verifier';
import {
  PaymentProviderError,
  type PaymentProvider,
  type PaymentStatus,
  type PaymentSucceeded,
  type ProviderRefundStatus,
  type RefundReport,
} from '../domain/ports/payment-provider';
import { mapped, newReference, newRefundReference, toProviderError } from './wechatpay-common';

const REFUND_STATUSES: readonly ProviderRefundStatus[] = ['PROCESSING', 'SUCCESS', 'CLOSED', 'ABNORMAL'];

function refundReport(r: WechatRefund): RefundReport {
  const status = refundStatusOf(r);
  if (!(REFUND_STATUSES as readonly string[]).includes(status)) {
    throw new PaymentProviderError('UNREACHABLE', `WeChat Pay reported an unknown refund status ${status}`, 'MALFORMED_ANSWER');
  }
  const settled = r.success_time ? Date.parse(r.success_time) : NaN;
  return {
    outRefundNo: r.out_refund_no,
    providerRefundId: r.refund_id ?? null,
    status: status as ProviderRefundStatus,
    amount: r.amount.refund,
    reference: r.out_trade_no ?? null,
    merchantId: r.mchid ?? null,
    settledAt: Number.isFinite(settled) ? settled : null,
  };
}

export interface WechatPayV3Options {
  baseUrl: string;
  merchant: Merchant;
  verifier: Verifier;
  clock: Clock;
  timeoutMs?: number;
  /** A pre-built client (tests); otherwise one is made from the options above. */
  client?: WechatPayClient;
}

/** SUCCESS (and REFUND: it was paid, then refunded) is a payment; the rest is pending or ended. */
function statusOf(t: Transaction, now: number): PaymentStatus {
  if (t.trade_state === 'SUCCESS' || t.trade_state === 'REFUND') return { state: 'SUCCEEDED', payment: succeeded(t, now) };
  if (t.trade_state === 'NOTPAY' || t.trade_state === 'USERPAYING') return { state: 'PENDING' };
  return { state: 'ENDED', detail: `${t.trade_state}${t.trade_state_desc ? ` (${t.trade_state_desc})` : ''}` };
}

function succeeded(t: Transaction, now: number): PaymentSucceeded {
  const parsed = t.success_time ? Date.parse(t.success_time) : NaN;
  return {
    reference: t.out_trade_no,
    transactionId: t.transaction_id ?? '',
    payee: { appId: t.appid, merchantId: t.mchid },
    amount: t.amount?.total,
    currency: t.amount?.currency,
    paidAt: Number.isFinite(parsed) ? parsed : now,
  };
}

export function createWechatPayV3Provider(o: WechatPayV3Options): PaymentProvider {
  const now = () => o.clock.now();
  const client =
    o.client ?? createWechatPayClient({ baseUrl: o.baseUrl, merchant: o.merchant, verifier: o.verifier, now, timeoutMs: o.timeoutMs });
  const { merchant } = o;
  return {
    payee: { appId: merchant.appid, merchantId: merchant.mchid },

    newReference,

    requestFor(terms) {
      const body: JsapiOrder = {
        appid: merchant.appid,
        mchid: merchant.mchid,
        description: terms.description,
        out_trade_no: terms.reference,
        time_expire: beijingTime(terms.expiresAt),
        notify_url: merchant.notifyUrl,
        amount: { total: terms.amount, currency: terms.currency },
        payer: { openid: terms.payer },
      };
      return JSON.stringify(body);
    },

    prepare: async (request) => ({ prepayId: await mapped(client.jsapiPrepay(request)) }),

    sheetParams: (prepayId, at) => signRequestPayment(merchant, prepayId, at),

    async query(reference) {
      const t = await mapped(client.queryByOutTradeNo(reference));
      return t ? statusOf(t, now()) : null;
    },

    close: (reference) => mapped(client.close(reference)),

    newRefundReference,

    async refund(req) {
      const order: RefundOrder = {
        transaction_id: req.transactionId,
        out_refund_no: req.outRefundNo,
        ...(req.reason ? { reason: [...req.reason].slice(0, 80).join('') } : {}),
        notify_url: merchant.notifyUrl,
        amount: { refund: req.amount, total: req.total, currency: req.currency },
      };
      return refundReport(await mapped(client.refund(order)));
    },

    async queryRefund(outRefundNo) {
      const r = await mapped(client.queryRefund(outRefundNo));
      return r ? refundReport(r) : null;
    },

    async dayBill(date) {
      let link: BillLink;
      try {
        link = await client.tradeBill(date);
      } catch (err) {
        if (err instanceof WechatPayError && err.code === 'NO_STATEMENT_EXIST') return { state: 'NONE' };
        if (err instanceof WechatPayError && err.code === 'STATEMENT_CREATING') return { state: 'NOT_READY', detail: err.message };
        throw toProviderError(err);
      }
      const body = await mapped(client.downloadBill(link.downloadUrl));
      return readyBill(body, { gzip: true, sha1: link.hashValue });
    },

    ...(o.verifier.refreshFor ? { refreshKeys: (serial: string) => o.verifier.refreshFor!(serial) } : {}),

    answerNotification: ({ accepted, status, message }) =>
      accepted
        ? { status: 204, contentType: null, body: '' }
        : { status, contentType: 'application/json', body: JSON.stringify({ code: 'FAIL', message }) },

    parseNotification({ headers, body }) {
      try {
        const n = parseNotification({ verifier: o.verifier, apiV3Key: merchant.apiV3Key, nowMs: now }, signatureHeadersOf(headers), body);
        const t = n.transaction;
        if (n.refund) {
          let refund: RefundReport;
          try {
            refund = refundReport(n.refund);
          } catch {
            return { ok: false, refusal: { reason: 'MALFORMED_RESOURCE', message: 'refund with an unknown status', unauthentic: false } };
          }
          return { ok: true, notification: { id: n.id, eventType: n.eventType, kind: 'REFUND_UPDATED', refund } };
        }
        if (n.eventType === 'TRANSACTION.SUCCESS' && t?.trade_state === 'SUCCESS') {
          return { ok: true, notification: { id: n.id, eventType: n.eventType, kind: 'PAYMENT_SUCCEEDED', payment: succeeded(t, now()) } };
        }
        const detail = `${n.eventType}${t ? ` / ${t.trade_state}` : ''}`;
        return {
          ok: true,
          notification: {
            id: n.id,
            eventType: n.eventType,
            kind: 'OTHER',
            detail,
            reference: t?.out_trade_no ?? null,
            transactionId: t?.transaction_id ?? null,
          },
        };
      } catch (err) {
        if (!(err instanceof NotificationRejected)) throw err;
        return { ok: false, refusal: rejectionOf(err, headers) };
      }
    },
  };
}
