// WeChat Pay v2's notifications as the sandbox sends them: a payment's XML signed with the order's
// sign_type; a refund's fields encrypted in req_info (v2 refund notifications carry no sign).
import { randomNonce } from '../server/src/wechatpay/crypto';
import { beijingCompact, beijingTime } from '../server/src/wechatpay/time';
import { encryptReqInfo, v2Sign } from '../server/src/wechatpay/v2/sign';
import { buildV2Xml } from '../server/src/wechatpay/v2/xml';
import type { SandboxOrder, SandboxRefund, SandboxState } from './state';

/** A refund's status in v2's words. */
export const REFUND_STATUS_V2 = { SUCCESS: 'SUCCESS', CLOSED: 'REFUNDCLOSE', ABNORMAL: 'CHANGE', PROCESSING: 'PROCESSING' } as const;

/** yyyy-MM-dd HH:mm:ss in Beijing time (v2 refund times). */
export const beijingSpaced = (ms: number) => beijingTime(ms).slice(0, 19).replace('T', ' ');

/** The XML of a v2 payment notification, signed with the order's sign_type. */
export function v2PaymentNotification(s: SandboxState, order: SandboxOrder, transactionId?: string): string {
  const signType = order.signType ?? 'MD5';
  const fields: Record<string, string | number> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: order.body.appid,
    mch_id: order.body.mchid,
    nonce_str: randomNonce(32),
    sign_type: signType,
    result_code: 'SUCCESS',
    openid: order.body.payer.openid,
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: order.body.amount.total,
    fee_type: 'CNY',
    cash_fee: order.body.amount.total,
    transaction_id: transactionId ?? order.transactionId!,
    out_trade_no: order.body.out_trade_no,
    time_end: beijingCompact(Date.parse(order.successTime!)),
  };
  fields.sign = v2Sign(fields, s.keys.apiV2Key!, signType);
  return buildV2Xml(fields);
}

/** The XML of a v2 refund notification: no sign; the refund's fields encrypted in req_info. */
export function v2RefundNotification(s: SandboxState, r: SandboxRefund): string {
  const inner = buildV2Xml(
    {
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      total_fee: r.total,
      refund_fee: r.amount,
      settlement_refund_fee: r.amount,
      refund_status: REFUND_STATUS_V2[r.status],
      ...(r.successTime ? { success_time: beijingSpaced(Date.parse(r.successTime)) } : {}),
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_request_source: 'API',
    },
    'root',
  );
  return buildV2Xml({
    return_code: 'SUCCESS',
    appid: s.keys.appid,
    mch_id: s.keys.mchid,
    nonce_str: randomNonce(32),
    req_info: encryptReqInfo(inner, s.keys.apiV2Key!),
  });
}
