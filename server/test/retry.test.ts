// Retry after the prepay_id has expired: WeChat's re-order rules, with an injectable clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from './helpers';

let offset = 0;
const clock = { now: () => Date.now() + offset };
let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { ORDER_PAY_WINDOW_MINUTES: '600', ORDER_QUERY_THROTTLE_MS: '0' }, system: { clock } });
});
afterAll(() => sys.close());

const status = async (token: string, id: string) => (await sys.request('GET', `/api/orders/${id}`, { token })).body.order;

describe('Retry after the prepay_id expired', () => {
  it('re-posts the identical order for a new prepay_id, keeping the out_trade_no', async () => {
    const token = await sys.login('later');
    const { order, payment } = await sys.checkout(token);
    offset += 2 * 3600_000; // the first prepay_id is now too old to hand out
    const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    expect(retry.status).toBe(200);
    expect(retry.body.payment.package).not.toBe(payment.package);
    expect(retry.body.order.outTradeNo).toBe(order.outTradeNo);
    expect((await sys.pay(retry.body.payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await status(token, order.id)).status === 'PAID', 2000);
  });

  it('closes the old out_trade_no and opens a new one when WeChat refuses the re-post', async () => {
    const token = await sys.login('changed');
    const { order, payment } = await sys.checkout(token);
    offset += 2 * 3600_000;
    sys.sandbox.controls.failPrepay = { status: 403, code: 'OUT_TRADE_NO_USED', message: '商户订单号重复', times: 1 };
    const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    expect(retry.status).toBe(200);
    expect(retry.body.order.outTradeNo).not.toBe(order.outTradeNo);
    expect(sys.sandbox.orderState(order.outTradeNo)).toBe('CLOSED');
    // The old payment sheet can no longer be paid; the new one can.
    expect((await sys.pay(payment)).body.errMsg).toMatch(/fail/);
    expect((await sys.pay(retry.body.payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await status(token, order.id)).status === 'PAID', 2000);
  });

  it('refuses to pay after the payment window', async () => {
    const token = await sys.login('toolate');
    const { order } = await sys.checkout(token);
    offset += 601 * 60_000;
    const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('ORDER_CLOSED');
  });
});
