// The full flow over real HTTP: the API and the sandbox in-process, SQLite on disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, waitFor, type TestSystem } from './helpers';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { ORDER_QUERY_THROTTLE_MS: '200' } });
});
afterAll(() => sys.close());

const orderStatus = async (token: string, id: string) =>
  (await sys.request('GET', `/api/orders/${id}`, { token })).body.order.status as string;

describe('login', () => {
  it('exchanges a wx.login code for a session token and never returns the session_key', async () => {
    const code = (await sys.request('POST', `${sys.sandboxUrl}/sandbox/login`, { body: { user: 'alice' } })).body.code;
    const res = await sys.request('POST', '/api/auth/login', { body: { code } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['expiresAt', 'token', 'user']);
    expect(res.body.user).toEqual({ id: expect.stringMatching(/^u_/) });
    expect(JSON.stringify(res.body)).not.toMatch(/session_?key|openid/i);
    // The same code again is used up.
    const again = await sys.request('POST', '/api/auth/login', { body: { code } });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('WECHAT_CODE_INVALID');
  });

  it('refuses unknown codes with 401, a missing code with 400 naming the field', async () => {
    expect((await sys.request('POST', '/api/auth/login', { body: { code: 'nope' } })).body.error.code).toBe('WECHAT_CODE_INVALID');
    const missing = await sys.request('POST', '/api/auth/login', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'code' });
  });

  it('answers 503 when WeChat is busy', async () => {
    sys.sandbox.controls.code2sessionErrcode = { errcode: -1, times: 1 };
    const code = sys.sandbox.issueCode('bob').code;
    const res = await sys.request('POST', '/api/auth/login', { body: { code } });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('WECHAT_BUSY');
  });

  it('requires a valid bearer token on every other route', async () => {
    for (const [m, p] of [
      ['GET', '/api/orders'],
      ['POST', '/api/orders'],
      ['GET', '/api/orders/ord_00000000000000000000000000000000'],
    ] as const) {
      const res = await sys.request(m, p, { token: 'x'.repeat(43) });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    const token = await sys.login();
    expect((await sys.request('POST', '/api/auth/logout', { token })).status).toBe(204);
    expect((await sys.request('GET', '/api/orders', { token })).status).toBe(401);
  });
});

describe('catalog', () => {
  it('lists seeded products priced in integer fen', async () => {
    const res = await sys.request('GET', '/api/products');
    expect(res.status).toBe(200);
    expect(res.body.products.length).toBeGreaterThan(0);
    for (const p of res.body.products) expect(Number.isSafeInteger(p.price)).toBe(true);
  });
});

describe('checkout', () => {
  it('prices the cart on the server and pays: order shows PAID within 2 seconds', async () => {
    const token = await sys.login('carol');
    const started = Date.now();
    const res = await sys.request('POST', '/api/orders', {
      token,
      body: {
        items: [
          { sku: 'COFFEE-BEANS-250G', quantity: 2 },
          { sku: 'STICKER-PACK', quantity: 3 },
        ],
      },
    });
    expect(res.status).toBe(201);
    const { order, payment } = res.body;
    expect(order).toMatchObject({ status: 'PENDING', total: 6800 * 2 + 3, currency: 'CNY' });
    expect(Object.keys(payment).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
    expect(payment).toMatchObject({
      signType: 'RSA',
      package: expect.stringMatching(/^prepay_id=wx/),
      timeStamp: expect.stringMatching(/^\d{10}$/),
    });
    expect((await sys.pay(payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await orderStatus(token, order.id)) === 'PAID', 2000);
    expect(Date.now() - started).toBeLessThan(2500);
    const paid = (await sys.request('GET', `/api/orders/${order.id}`, { token })).body.order;
    expect(paid.transactionId).toMatch(/^\d{28}$/);
    const list = await sys.request('GET', '/api/orders', { token });
    expect(list.body.orders.map((o: { id: string }) => o.id)).toContain(order.id);
  });

  it('saves a checkout in two durable writes: the order (leased to the request), then its prepay_id (releasing it)', async () => {
    const token = await sys.login('erin');
    const before = sys.server.store.commitStats!();
    const res = await sys.request('POST', '/api/orders', { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] } });
    const after = sys.server.store.commitStats!();
    expect(res.status).toBe(201);
    expect(after.writes - before.writes).toBe(2);
    // Released: reconciliation (or a Retry) can take the order at once.
    expect(await sys.server.store.claimOrder(res.body.order.id, 'test', Date.now() + 1000, Date.now())).toBe(true);
    await sys.server.store.releaseOrder(res.body.order.id, 'test');
  });

  it('ignores any price the client sends', async () => {
    const token = await sys.login();
    const res = await sys.request('POST', '/api/orders', { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1, price: 1 }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('items[0]');
  });

  it('leaves a cancelled payment pending; Retry gives fresh parameters that pay the same order', async () => {
    const token = await sys.login('dave');
    const { order, payment } = await sys.checkout(token);
    expect((await sys.pay(payment, 'cancel')).body.errMsg).toBe('requestPayment:fail cancel');
    expect(await orderStatus(token, order.id)).toBe('PENDING');
    const retry = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    expect(retry.status).toBe(200);
    expect(retry.body.order.id).toBe(order.id);
    expect(retry.body.payment.package).toBe(payment.package); // prepay_id reused while valid
    expect(retry.body.payment.nonceStr).not.toBe(payment.nonceStr); // but freshly signed
    expect((await sys.pay(retry.body.payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await orderStatus(token, order.id)) === 'PAID', 2000);
    const again = await sys.request('POST', `/api/orders/${order.id}/payment`, { token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ORDER_ALREADY_PAID');
  });

  it('confirms by querying WeChat Pay when the notification never arrives', async () => {
    const token = await sys.login();
    const { order, payment } = await sys.checkout(token);
    sys.sandbox.controls.dropNotifications = 1;
    await sys.pay(payment);
    await waitFor(async () => (await orderStatus(token, order.id)) === 'PAID', 2000);
  });

  it('is idempotent per Idempotency-Key: same body → same order, other body → 409', async () => {
    const token = await sys.login('erin');
    const key = `checkout-${Date.now()}`;
    const a = await sys.request('POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] },
      headers: { 'Idempotency-Key': key },
    });
    const b = await sys.request('POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] },
      headers: { 'Idempotency-Key': key },
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body.order.id).toBe(a.body.order.id);
    const c = await sys.request('POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'MUG-CERAMIC', quantity: 2 }] },
      headers: { 'Idempotency-Key': key },
    });
    expect(c.status).toBe(409);
    expect(c.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // A double tap: ten concurrent identical requests make one order.
    const key2 = `tap-${Date.now()}`;
    const taps = await Promise.all(
      Array.from({ length: 10 }, () =>
        sys.request('POST', '/api/orders', {
          token,
          body: { items: [{ sku: 'DRIP-BAGS-10', quantity: 1 }] },
          headers: { 'Idempotency-Key': key2 },
        }),
      ),
    );
    expect(new Set(taps.map((t) => t.body.order.id)).size).toBe(1);
    expect(taps.every((t) => t.status === 200 || t.status === 201)).toBe(true);
  });

  it('answers 400 naming the field for unknown sku, bad quantity and an empty cart', async () => {
    const token = await sys.login();
    const cases: [unknown, string, string][] = [
      [{ items: [{ sku: 'NOPE', quantity: 1 }] }, 'UNKNOWN_SKU', 'items[0].sku'],
      [{ items: [{ sku: 'MUG-CERAMIC', quantity: 0 }] }, 'VALIDATION_FAILED', 'items[0].quantity'],
      [{ items: [{ sku: 'MUG-CERAMIC', quantity: 1.5 }] }, 'VALIDATION_FAILED', 'items[0].quantity'],
      [{ items: [{ sku: 'MUG-CERAMIC', quantity: '2' }] }, 'VALIDATION_FAILED', 'items[0].quantity'],
      [{ items: [{ sku: 'MUG-CERAMIC', quantity: 11 }] }, 'VALIDATION_FAILED', 'items[0].quantity'],
      [
        {
          items: [
            { sku: 'MUG-CERAMIC', quantity: 1 },
            { sku: 'MUG-CERAMIC', quantity: 1 },
          ],
        },
        'VALIDATION_FAILED',
        'items[1].sku',
      ],
      [{ items: [] }, 'VALIDATION_FAILED', 'items'],
      [{}, 'VALIDATION_FAILED', 'items'],
    ];
    for (const [body, code, field] of cases) {
      const res = await sys.request('POST', '/api/orders', { token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toMatchObject({ code, field });
      expect(res.body.error.message).toContain(field);
    }
    const notJson = await sys.request('POST', '/api/orders', { token, body: '{"items":' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('VALIDATION_FAILED');
  });

  it("shows another user's order as 404", async () => {
    const alice = await sys.login('owner');
    const mallory = await sys.login('mallory');
    const { order } = await sys.checkout(alice);
    for (const [m, p] of [
      ['GET', `/api/orders/${order.id}`],
      ['POST', `/api/orders/${order.id}/payment`],
    ] as const) {
      const res = await sys.request(m, p, { token: mallory });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const list = await sys.request('GET', '/api/orders', { token: mallory });
    expect(list.body.orders.map((o: { id: string }) => o.id)).not.toContain(order.id);
  });

  it('saves the order when WeChat Pay fails, answers 503, and the retry pays it', async () => {
    const token = await sys.login();
    sys.sandbox.controls.failPrepay = { status: 500, code: 'SYSTEM_ERROR', message: '系统错误', times: 1 };
    const res = await sys.request('POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] },
      headers: { 'Idempotency-Key': 'busy-1' },
    });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('WECHATPAY_BUSY');
    const orders = (await sys.request('GET', '/api/orders', { token })).body.orders;
    expect(orders).toHaveLength(1);
    expect(orders[0].status).toBe('PENDING');
    // Repeating the request with the same key resumes the same order.
    const again = await sys.request('POST', '/api/orders', {
      token,
      body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] },
      headers: { 'Idempotency-Key': 'busy-1' },
    });
    expect(again.body.order.id).toBe(orders[0].id);
    expect((await sys.pay(again.body.payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await orderStatus(token, orders[0].id)) === 'PAID', 2000);
  });

  it('answers the health check and JSON 404 for unknown API routes', async () => {
    expect((await sys.request('GET', '/api/health')).body).toMatchObject({ status: 'ok', store: 'sqlite' });
    const res = await sys.request('GET', '/api/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });
});
