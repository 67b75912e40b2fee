// What wx.requestPayment's errMsg means for the shopper: the real sheet's and the sandbox's say it alike.
import type { PaymentOutcome } from './types';

/**
 * requestPayment:ok / requestPayment:fail cancel / requestPayment:fail <detail>. A detail is shown
 * only when it is written for people (WeChat's are Chinese); a developer's string never reaches the shopper.
 */
export function toOutcome(errMsg: string): PaymentOutcome {
  if (/:ok$/.test(errMsg)) return { outcome: 'ok' };
  if (/cancel/.test(errMsg)) return { outcome: 'cancel' };
  const detail = errMsg.replace(/^requestPayment:fail\s*/, '');
  return { outcome: 'fail', message: /[\u4e00-\u9fff]/.test(detail) ? detail : '支付未能完成' };
}
