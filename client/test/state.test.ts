import { describe, expect, it } from 'vitest';
import { parseOutcome, resultView } from '../pages/result/state';

const order = (status: 'PENDING' | 'PAID' | 'CLOSED') => ({ status }) as never;

describe('result page state', () => {
  it('follows the server first, the payment sheet only for wording', () => {
    expect(resultView(order('PAID'), { outcome: 'cancel' }, false, null)).toEqual({ kind: 'paid' });
    expect(resultView(order('CLOSED'), { outcome: 'ok' }, false, null)).toEqual({ kind: 'closed' });
    expect(resultView(order('PENDING'), { outcome: 'ok' }, true, null)).toEqual({ kind: 'confirming' });
    expect(resultView(order('PENDING'), { outcome: 'ok' }, false, null)).toEqual({ kind: 'unconfirmed' });
    expect(resultView(order('PENDING'), { outcome: 'cancel' }, false, null)).toEqual({ kind: 'cancelled' });
    expect(resultView(order('PENDING'), { outcome: 'fail', message: 'x' }, false, null)).toEqual({ kind: 'failed', reason: 'x' });
    expect(resultView(null, { outcome: 'ok' }, true, null)).toEqual({ kind: 'loading' });
    // Past its time to pay, a pending order can no longer be paid: closed, whatever the server has yet to write.
    const expired = { status: 'PENDING', payDeadline: new Date(Date.now() - 1000).toISOString() } as never;
    expect(resultView(expired, { outcome: 'cancel' }, false, null)).toEqual({ kind: 'closed' });
    expect(resultView(expired, { outcome: 'ok' }, true, null)).toEqual({ kind: 'confirming' });
    expect(resultView(null, { outcome: 'ok' }, false, 'boom')).toEqual({ kind: 'error', message: 'boom' });
  });

  it('reads the outcome from the page URL', () => {
    expect(parseOutcome('ok', undefined)).toEqual({ outcome: 'ok' });
    expect(parseOutcome('cancel', 'x')).toEqual({ outcome: 'cancel' });
    expect(parseOutcome('fail', encodeURIComponent('余额不足'))).toEqual({ outcome: 'fail', message: '余额不足' });
    expect(parseOutcome(undefined, undefined)).toEqual({ outcome: 'fail', message: '' });
  });
});

describe('refund summary', () => {
  const r = (amount: number, status: string) => ({ id: 'rf', amount, status, createdAt: '', settledAt: null }) as never;
  it('says 部分退款, 已退款, 退款中 or 退款异常 with the amounts', async () => {
    const { refundSummary } = await import('../services/refunds');
    expect(refundSummary({ total: 9000, refundedTotal: 0, refunds: [] })).toBeNull();
    expect(refundSummary({ total: 9000, refundedTotal: 3000, refunds: [r(3000, 'SUCCESS')] })).toBe('部分退款 ¥30.00');
    expect(refundSummary({ total: 9000, refundedTotal: 9000, refunds: [r(3000, 'SUCCESS'), r(6000, 'SUCCESS')] })).toBe('已退款 ¥90.00');
    expect(refundSummary({ total: 9000, refundedTotal: 0, refunds: [r(1000, 'PROCESSING'), r(500, 'CLOSED')] })).toBe('退款中 ¥10.00');
    expect(refundSummary({ total: 9000, refundedTotal: 3000, refunds: [r(3000, 'SUCCESS'), r(2000, 'ABNORMAL')] })).toBe(
      '部分退款 ¥30.00，退款异常 ¥20.00，请联系商家',
    );
  });
});

describe('what the shopper is told', () => {
  it('never shows a developer string from the payment sheet', async () => {
    const { toOutcome } = await import('../services/wx/outcome');
    expect(toOutcome('requestPayment:fail network request failed')).toEqual({ outcome: 'fail', message: '支付未能完成' });
    expect(toOutcome('requestPayment:fail 支付失败，请稍后再试')).toEqual({ outcome: 'fail', message: '支付失败，请稍后再试' });
    expect(toOutcome('requestPayment:fail cancel')).toEqual({ outcome: 'cancel' });
    expect(toOutcome('requestPayment:ok')).toEqual({ outcome: 'ok' });
  });

  it("gives the server's real reason for a refused field, in Chinese", async () => {
    const { ApiError, describeError } = await import('../services/errors');
    expect(describeError(new ApiError(400, 'VALIDATION_FAILED', 'items[0].quantity: at most 10 of MUG-CERAMIC', 'items[0].quantity'))).toBe(
      '商品数量超出可购买的范围，请调整数量后重试',
    );
    expect(describeError(new ApiError(400, 'VALIDATION_FAILED', 'items: the cart is empty', 'items'))).toBe('购物车是空的，请先选择商品');
    expect(describeError(new ApiError(400, 'VALIDATION_FAILED', 'x', 'Idempotency-Key'))).toBe('订单信息有误，请返回刷新后重新下单');
    expect(describeError(new ApiError(0, 'NETWORK', 'network request failed'))).toBe('网络连接失败，请检查网络后重试');
  });
});

describe('shipment summary', () => {
  it('says 待发货, 已发货 with the parcels, or 已完成; nothing for unpaid or fully refunded orders', async () => {
    const { shipmentSummary } = await import('../services/shipment');
    const paid = { status: 'PAID', total: 4500, refundedTotal: 0, shipment: null } as never;
    expect(shipmentSummary(paid)).toBe('待发货');
    const shipped = {
      status: 'PAID',
      total: 4500,
      refundedTotal: 0,
      shipment: { status: 'SHIPPED', packages: [{ carrier: 'YTO', carrierName: '圆通速递', trackingNo: 'YT1' }] },
    } as never;
    expect(shipmentSummary(shipped)).toBe('已发货 · 圆通速递 YT1');
    expect(
      shipmentSummary({ status: 'PAID', total: 4500, refundedTotal: 0, shipment: { status: 'COMPLETED', packages: [] } } as never),
    ).toBe('已完成');
    expect(shipmentSummary({ status: 'PENDING', total: 4500, refundedTotal: 0, shipment: null } as never)).toBeNull();
    expect(shipmentSummary({ status: 'PAID', total: 4500, refundedTotal: 4500, shipment: null } as never)).toBeNull();
  });
});
