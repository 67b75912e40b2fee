// The payment-provider port over WeChat Pay API v2 (the seed's `signType: 'MD5'`): XML, signatures
// with the APIv2 key (MD5 or HMAC-SHA256), refunds over mutual TLS, refund notifications decrypted
// from req_info. Maps v2's vocabulary (trade_state, err_code, refund_status) to the shop's.
import crypto from 'node:crypto';
import type { Clock } from '../clock';
import { randomNonce } from '../wechatpay/crypto';
import { WechatPayError } from '../wechatpay/errors';
import { unixSeconds } from '../wechatpay/time';
import { createWechatPayV2Client, type V2Answer, type V2ClientOptions, type WechatPayV2Client } from '../wechatpay/v2/client';
import { declaredSignType, decryptReqInfo, v2Sign, v2Verify, type V2SignType } from '../wechatpay/v2/sign';
import { beijingCompact } from '../wechatpay/time';
import { parseV2Xml, v2NotificationAnswer, type XmlFormatError } from '../wechatpay/v2/xml';
import {
  PaymentProviderError,
  type NotificationParse,
  type PaymentProvider,
  type PaymentStatus,
  type PaymentSucceeded,
  type ProviderRefundStatus,
  type RefundReport,
} from '../domain/ports/payment-provider';
import { mapped, newReference, newRefundReference, toProviderError } from './wechatpay-common';
import { readyBill } from './bill-stream';

export interface WechatPayV2Options extends Omit<V2ClientOptions, 'timeoutMs'> {
  notifyUrl: string;
  clientIp: string;
  clock: Clock;
  timeoutMs?: number;
  client?: WechatPayV2Client;
}

/** yyyyMMddHHmmss or yyyy-MM-dd HH:mm:ss in Beijing time → epoch ms; NaN when it is neither. */
export function parseBeijing(s: string | undefined): number {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(s ?? '');
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00`) : NaN;
}

const REFUND_STATUS: Record<string, ProviderRefundStatus> = {
  SUCCESS: 'SUCCESS',
  REFUNDCLOSE: 'CLOSED',
  PROCESSING: 'PROCESSING',
  CHANGE: 'ABNORMAL',
};

function integer(s: string | undefined): number | undefined {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
}

export function createWechatPayV2Provider(o: WechatPayV2Options): PaymentProvider {
  const client = o.client ?? createWechatPayV2Client(o);
  const now = () => o.clock.now();
  const signType: V2SignType = o.signType;

  const succeeded = (a: V2Answer): PaymentSucceeded => {
    const paid = parseBeijing(a.time_end);
    return {
      reference: a.out_trade_no ?? '',
      transactionId: a.transaction_id ?? '',
      payee: { appId: a.appid ?? '', merchantId: a.mch_id ?? '' },
      amount: integer(a.total_fee),
      currency: a.fee_type || 'CNY',
      paidAt: Number.isFinite(paid) ? paid : now(),
    };
  };

  const statusOf = (a: V2Answer): PaymentStatus => {
    const state = a.trade_state ?? '';
    if (state === 'SUCCESS' || state === 'REFUND') return { state: 'SUCCEEDED', payment: succeeded(a) };
    if (state === 'NOTPAY' || state === 'USERPAYING' || state === 'ACCEPT') return { state: 'PENDING' };
    return { state: 'ENDED', detail: `${state}${a.trade_state_desc ? ` (${a.trade_state_desc})` : ''}` };
  };

  const refund = (r: Record<string, string>, suffix = ''): RefundReport => {
    const raw = r[`refund_status${suffix}`] ?? '';
    const status = REFUND_STATUS[raw];
    if (!status) throw new PaymentProviderError('UNREACHABLE', `WeChat Pay reported an unknown refund status ${raw}`, 'MALFORMED_ANSWER');
    const settled = parseBeijing(r[`refund_success_time${suffix}`] ?? r.success_time);
    return {
      outRefundNo: r[`out_refund_no${suffix}`] ?? '',
      providerRefundId: r[`refund_id${suffix}`] ?? null,
      status,
      amount: integer(r[`refund_fee${suffix}`]) ?? -1,
      reference: r.out_trade_no ?? null,
      merchantId: r.mch_id ?? null,
      settledAt: Number.isFinite(settled) ? settled : null,
    };
  };

  function parsePayment(fields: Record<string, string>): NotificationParse {
    const declared = declaredSignType(fields);
    if (!declared)
      return {
        ok: false,
        refusal: { reason: 'UNSUPPORTED_SIGNATURE_TYPE', message: `unsupported sign_type ${fields.sign_type}`, unauthentic: false },
      };
    if (!fields.sign || !v2Verify(fields, o.apiKey, declared))
      return { ok: false, refusal: { reason: 'BAD_SIGNATURE', message: 'sign does not verify', unauthentic: true } };
    // v2 notifications have no id: a repeat carries the same fields (its nonce and sign may differ).
    const { nonce_str: _n, sign: _s, ...content } = fields;
    const digest = crypto
      .createHash('sha256')
      .update(JSON.stringify(Object.entries(content).sort()))
      .digest('hex')
      .slice(0, 16);
    const id = `v2:${fields.transaction_id || fields.out_trade_no}:${digest}`;
    if (fields.return_code !== 'SUCCESS' || fields.result_code !== 'SUCCESS') {
      const detail = `payment ${fields.return_code}/${fields.result_code}${fields.err_code ? ` ${fields.err_code}` : ''}`;
      return {
        ok: true,
        notification: {
          id,
          eventType: 'V2.PAY',
          kind: 'OTHER',
          detail,
          reference: fields.out_trade_no ?? null,
          transactionId: fields.transaction_id ?? null,
        },
      };
    }
    return { ok: true, notification: { id, eventType: 'V2.PAY', kind: 'PAYMENT_SUCCEEDED', payment: succeeded(fields) } };
  }

  function parseRefund(fields: Record<string, string>): NotificationParse {
    let inner: Record<string, string>;
    try {
      inner = parseV2Xml(decryptReqInfo(fields.req_info!, o.apiKey), 'root');
    } catch {
      // Only WeChat knows the key that encrypts req_info: what does not decrypt was not sent by WeChat.
      return {
        ok: false,
        refusal: { reason: 'DECRYPT_FAILED', message: 'req_info does not decrypt with the APIv2 key', unauthentic: true },
      };
    }
    let report: RefundReport;
    try {
      report = { ...refund({ ...inner, mch_id: fields.mch_id ?? '' }), reference: inner.out_trade_no ?? null };
    } catch {
      return { ok: false, refusal: { reason: 'MALFORMED_RESOURCE', message: 'refund with an unknown status', unauthentic: false } };
    }
    return {
      ok: true,
      notification: {
        id: `v2-refund:${report.outRefundNo}:${inner.refund_status}`,
        eventType: `V2.REFUND.${inner.refund_status}`,
        kind: 'REFUND_UPDATED',
        refund: report,
      },
    };
  }

  return {
    payee: { appId: o.appid, merchantId: o.mchid },
    newReference,
    newRefundReference,

    requestFor(terms) {
      // The fields that define the order, in a fixed order: nonce and sign are added per call.
      return JSON.stringify({
        body: terms.description,
        fee_type: terms.currency,
        notify_url: o.notifyUrl,
        openid: terms.payer,
        out_trade_no: terms.reference,
        spbill_create_ip: o.clientIp,
        time_expire: beijingCompact(terms.expiresAt),
        total_fee: terms.amount,
        trade_type: 'JSAPI',
      });
    },

    async prepare(request) {
      try {
        const a = await client.unifiedOrder(JSON.parse(request) as Record<string, string | number>);
        if (!a.prepay_id) throw new WechatPayError('UNTRUSTED', 'MALFORMED_ANSWER', 'WeChat Pay returned no prepay_id');
        return { prepayId: a.prepay_id };
      } catch (err) {
        // v2 answers a re-order with other parameters INVALID_REQUEST: the reference is spent.
        if (err instanceof WechatPayError && err.code === 'INVALID_REQUEST')
          throw new PaymentProviderError('REFERENCE_UNUSABLE', err.message, err.code);
        throw toProviderError(err);
      }
    },

    async sheetParams(prepayId, at) {
      const fields = { appId: o.appid, nonceStr: randomNonce(32), package: `prepay_id=${prepayId}`, signType, timeStamp: unixSeconds(at) };
      // The paySign covers exactly these five fields; signType equals the sign_type of unifiedorder.
      return {
        timeStamp: fields.timeStamp,
        nonceStr: fields.nonceStr,
        package: fields.package,
        signType,
        paySign: v2Sign(fields, o.apiKey, signType),
      };
    },

    async query(reference) {
      const a = await mapped(client.orderQuery(reference));
      return a ? statusOf(a) : null;
    },

    close: (reference) => mapped(client.closeOrder(reference)),

    async refund(req) {
      const a = await mapped(
        client.refund({
          transaction_id: req.transactionId,
          out_refund_no: req.outRefundNo,
          total_fee: req.total,
          refund_fee: req.amount,
          refund_fee_type: req.currency,
          ...(req.reason ? { refund_desc: [...req.reason].slice(0, 80).join('') } : {}),
          notify_url: o.notifyUrl,
        }),
      );
      // Accepted: the outcome follows by notification or query.
      return {
        outRefundNo: a.out_refund_no ?? req.outRefundNo,
        providerRefundId: a.refund_id ?? null,
        status: 'PROCESSING',
        amount: integer(a.refund_fee) ?? req.amount,
        reference: a.out_trade_no ?? req.reference,
        merchantId: a.mch_id ?? null,
        settledAt: null,
      };
    },

    async queryRefund(outRefundNo) {
      const a = await mapped(client.refundQuery(outRefundNo));
      if (!a) return null;
      return refund(a, '_0');
    },

    answerNotification: ({ accepted, status, message }) => ({
      status: accepted ? 200 : status,
      contentType: 'text/xml',
      body: v2NotificationAnswer(accepted, message),
    }),

    async dayBill(date) {
      try {
        const body = await client.downloadBill(date.replaceAll('-', ''));
        // v2's file carries no hash: the summary row checked against the lines is the integrity check.
        return readyBill(body, { gzip: true, sha1: null });
      } catch (err) {
        if (err instanceof WechatPayError && err.code === 'NO_BILL_EXIST') return { state: 'NONE' };
        if (err instanceof WechatPayError && err.code === 'BILL_CREATING') return { state: 'NOT_READY', detail: err.message };
        throw toProviderError(err);
      }
    },

    parseNotification({ body }) {
      let fields: Record<string, string>;
      try {
        fields = parseV2Xml(body.toString('utf8'));
      } catch (err) {
        return {
          ok: false,
          refusal: {
            reason: 'MALFORMED_BODY',
            message: `body is not a WeChat Pay v2 notification (${(err as XmlFormatError).message})`,
            unauthentic: false,
          },
        };
      }
      if (fields.req_info) return parseRefund(fields);
      return parsePayment(fields);
    },
  };
}
