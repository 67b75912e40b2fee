// A refund's life in the sandbox, for v3 and v2 alike: accepted as PROCESSING, then ended as the
// refundOutcome switch says after refundDelayMs, and notified on WeChat's schedule.
import crypto from 'node:crypto';
import { beijingTime } from '../server/src/wechatpay/time';
import type { Deliveries } from './delivery';
import type { SandboxRefund, SandboxState } from './state';

/** Records a new refund (PROCESSING), applies the drop switch, and schedules its end. */
export function startRefund(
  s: SandboxState,
  deliveries: Deliveries,
  f: Pick<SandboxRefund, 'api' | 'canonical' | 'outRefundNo' | 'outTradeNo' | 'transactionId' | 'amount' | 'total' | 'notifyUrl'>,
): SandboxRefund {
  const refund: SandboxRefund = {
    ...f,
    refundId: `50${Array.from(crypto.randomBytes(27), (x) => x % 10).join('')}`,
    status: 'PROCESSING',
    createTime: beijingTime(s.now()),
    successTime: null,
    dropNotifications: false,
  };
  if (s.controls.dropRefundNotifications > 0) {
    refund.dropNotifications = true;
    s.controls.dropRefundNotifications -= 1;
  }
  s.refunds.set(refund.outRefundNo, refund);
  settleRefund(s, deliveries, refund);
  return refund;
}

/** Ends a PROCESSING refund as the refundOutcome switch says, after refundDelayMs, and notifies it. */
export function settleRefund(s: SandboxState, deliveries: Deliveries, refund: SandboxRefund): void {
  const outcome = ({ success: 'SUCCESS', abnormal: 'ABNORMAL', closed: 'CLOSED' } as const)[s.controls.refundOutcome];
  deliveries.after(s.controls.refundDelayMs, () => {
    if (refund.status !== 'PROCESSING') return;
    refund.status = outcome;
    if (outcome === 'SUCCESS') refund.successTime = beijingTime(s.now());
    deliveries.scheduleRefund(refund);
    if (outcome === 'SUCCESS') s.onRefundSucceeded?.(refund.transactionId);
  });
}
