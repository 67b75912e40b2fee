// Issue 13: what an operator and an API consumer get — request ids, metrics, the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from './helpers';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' } });
});
afterAll(() => sys.close());

const lines = () => sys.logs.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('echoes a Request-ID on every answer and puts it in the request log line', async () => {
    const res = await sys.request('GET', '/api/products');
    const id = res.headers.get('request-id')!;
    expect(id).toMatch(UUID);
    const line = lines().find((l) => l.reqId === id && l.msg === 'request');
    expect(line).toMatchObject({ method: 'GET', path: '/api/products', status: 200 });
    expect(typeof line!.ms).toBe('number');
    const other = await sys.request('GET', '/api/products');
    expect(other.headers.get('request-id')).not.toBe(id);
  });

  it("carries the request id on every line logged while serving it, and WeChat's Request-ID on a notification's lines", async () => {
    const token = await sys.login();
    const { payment, order } = await sys.checkout(token);
    await sys.pay(payment, 'success');
    // The notification reaches the server from the sandbox: its lines carry WeChat's Request-ID and our id.
    let paid: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !paid; i++) {
      paid = lines().find((l) => l.msg === 'order paid' && l.orderId === order.id);
      if (!paid) await new Promise((r) => setTimeout(r, 50));
    }
    expect(paid).toBeDefined();
    expect(paid!.reqId).toMatch(UUID);
    const processed = lines().find((l) => l.msg === 'notification processed' && l.reqId === paid!.reqId);
    expect(processed!.wechatpayRequestId).toMatch(/^[0-9A-F]{32}-0$/);
    expect(paid!.wechatpayRequestId).toBe(processed!.wechatpayRequestId);
    // Static files and the notify route have no request line of their own.
    expect(lines().filter((l) => l.msg === 'request' && String(l.path).startsWith('/api/wechatpay/notify'))).toHaveLength(0);
  });
});
