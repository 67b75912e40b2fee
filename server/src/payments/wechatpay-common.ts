// What both WeChat Pay adapters (API v3 and v2) share: the merchant references they mint and the
// mapping of the protocol library's errors to the port's failures.
import { randomNonce } from '../wechatpay/crypto';
import { WechatPayError } from '../wechatpay/errors';
import { beijingTime } from '../wechatpay/time';
import { PaymentProviderError } from '../domain/ports/payment-provider';

/** The Beijing date as YYYYMMDD: references start with it so people can read their day. */
const beijingDate = (at: number) => beijingTime(at).slice(0, 10).replaceAll('-', '');

/** 6–32 of [0-9A-Za-z_-|*]: a Beijing date prefix for humans, a random tail for uniqueness (v3 and v2 alike). */
export const newReference = (at: number) => `${beijingDate(at)}${randomNonce(18)}`;

/** [0-9A-Za-z_-|*@], up to 64: "RF", a Beijing date for humans, a random tail for uniqueness. */
export const newRefundReference = (at: number) => `RF${beijingDate(at)}${randomNonce(20)}`;

/** Maps the protocol library's error to the port's failure. */
export function toProviderError(err: unknown): unknown {
  if (!(err instanceof WechatPayError)) return err;
  const failure =
    err.kind !== 'API'
      ? 'UNREACHABLE'
      : err.isOrderPaid
        ? 'ALREADY_PAID'
        : err.isOutTradeNoUsed || err.isOrderClosed
          ? 'REFERENCE_UNUSABLE'
          : err.isRetryable
            ? 'BUSY'
            : 'REJECTED';
  return new PaymentProviderError(failure, err.message, err.code, err.requestId);
}

/** Awaits a protocol call, turning its failure into the port's. */
export async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toProviderError(err);
  }
}
