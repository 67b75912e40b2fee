// Property-based fuzzing of every public route over real HTTP: whatever arrives, the answer is a
// 4xx with an error body (or a 2xx exactly when the input is valid), never a 5xx, never a crash.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PRODUCTS } from '../src/domain/catalog';
import { figure } from './figures';
import { startTestSystem, type TestSystem } from './helpers';

const RUNS = 1000;
let sys: TestSystem;
let token: string;
const tally: Record<string, { runs: number; s2xx: number; s4xx: number; s5xx: number }> = {};

beforeAll(async () => {
  sys = await startTestSystem({
    env: { LOG_LEVEL: 'warn', RECONCILE_INTERVAL_SECONDS: '0' },
    system: { limits: { loginPerMinute: 1_000_000, ordersPerMinute: 1_000_000, retriesPerMinute: 1_000_000, readsPerMinute: 1_000_000 } },
  });
  token = await sys.login('fuzzer');
});
afterAll(async () => {
  const lines = Object.entries(tally).map(([route, t]) => `${route} ${t.runs} (${t.s2xx} 2xx, ${t.s4xx} 4xx, ${t.s5xx} 5xx)`);
  const total = Object.values(tally).reduce((n, t) => n + t.runs, 0);
  const fives = Object.values(tally).reduce((n, t) => n + t.s5xx, 0);
  figure('fuzz', `${total} generated requests over ${lines.length} routes, ${fives} 5xx: ${lines.join('; ')}`, {
    total,
    fiveHundreds: fives,
  });
  await sys.close();
});

const printable = fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))), maxLength: 80 });
const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  anyText,
);

async function send(route: string, method: string, path: string, body: string | undefined, headers: Record<string, string>) {
  const res = await fetch(`${sys.api}${path}`, { method, body, headers: { 'Content-Type': 'application/json', ...headers } });
  const text = await res.text();
  tally[route] ??= { runs: 0, s2xx: 0, s4xx: 0, s5xx: 0 };
  const t = tally[route];
  t.runs += 1;
  if (res.status >= 500) t.s5xx += 1;
  else if (res.status >= 400) t.s4xx += 1;
  else t.s2xx += 1;
  let parsed: any = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // checked below
  }
  return { status: res.status, body: parsed, text };
}

function expectClientError(r: { status: number; body: any; text: string }, notify = false) {
  expect(r.status, r.text).toBeGreaterThanOrEqual(400);
  expect(r.status, r.text).toBeLessThan(500);
  if (notify) expect(r.body).toMatchObject({ code: 'FAIL', message: expect.any(String) });
  else expect(r.body?.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
}

/** An independent statement of a valid cart, to know when a 2xx is right. */
function validCart(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  const items = (body as { items?: unknown }).items;
  if (keys.length !== 1 || keys[0] !== 'items' || !Array.isArray(items) || items.length < 1 || items.length > 20) return false;
  const seen = new Set<string>();
  return items.every((it) => {
    if (typeof it !== 'object' || it === null || Object.keys(it).sort().join() !== 'quantity,sku') return false;
    const p = SEED_PRODUCTS.find((x) => x.sku === it.sku);
    if (!p || seen.has(it.sku)) return false;
    seen.add(it.sku);
    return Number.isInteger(it.quantity) && it.quantity >= 1 && it.quantity <= p.maxQuantity;
  });
}

/** Carts the server must accept, so the 2xx side of the oracle is exercised too. */
const validCartArb = fc
  .uniqueArray(fc.constantFrom(...SEED_PRODUCTS), { minLength: 1, maxLength: SEED_PRODUCTS.length, selector: (p) => p.sku })
  .chain((products) =>
    fc.tuple(...products.map((p) => fc.integer({ min: 1, max: p.maxQuantity }).map((quantity) => ({ sku: p.sku, quantity })))),
  )
  .map((items) => ({ items }));

const cartArb = fc.record(
  {
    items: fc.array(
      fc.record(
        {
          sku: fc.oneof(fc.constantFrom(...SEED_PRODUCTS.map((p) => p.sku)), fc.string({ maxLength: 70 })),
          quantity: fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double(), fc.string({ maxLength: 4 }), fc.constant(null)),
          price: fc.integer(),
        },
        { requiredKeys: ['sku', 'quantity'] },
      ),
      { maxLength: 22 },
    ),
  },
  { requiredKeys: [] },
);

describe(`fuzzing every public route (${RUNS} inputs each)`, () => {
  it('POST /api/auth/login', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyJson,
          fc.record({ code: fc.oneof(fc.string({ maxLength: 140 }), fc.integer()) }).map((v) => JSON.stringify(v)),
        ),
        async (body) => {
          expectClientError(await send('POST /api/auth/login', 'POST', '/api/auth/login', body, {}));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /api/orders (cart, Idempotency-Key)', async () => {
    let key = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(validCartArb, cartArb, fc.jsonValue({ maxDepth: 3 })), fc.option(printable), async (cart, idem) => {
        const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
        // A unique valid key per run unless the generated one is used, so replays do not mask validation.
        headers['Idempotency-Key'] = idem ?? `fuzz-${key++}`;
        const r = await send('POST /api/orders', 'POST', '/api/orders', JSON.stringify(cart), headers);
        // HTTP strips leading and trailing blanks from header values before the server sees them.
        const keyValid = /^[\x21-\x7e]{1,128}$/.test(headers['Idempotency-Key'].trim());
        if (validCart(cart) && keyValid) expect([200, 201, 409], r.text).toContain(r.status);
        else expectClientError(r);
      }),
      { numRuns: RUNS },
    );
  });

  const hex32 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 });
  for (const pay of [false, true]) {
    const route = pay ? 'POST /api/orders/:id/payment' : 'GET /api/orders/:id';
    it(route, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s !== '.' && s !== '..'),
            hex32.map((h) => `ord_${h}`),
          ),
          async (id) => {
            const path = `/api/orders/${encodeURIComponent(id)}${pay ? '/payment' : ''}`;
            expectClientError(await send(route, pay ? 'POST' : 'GET', path, undefined, { Authorization: `Bearer ${token}` }));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  for (const [method, path] of [
    ['GET', '/api/orders'],
    ['POST', '/api/auth/logout'],
  ] as const) {
    it(`${method} ${path} with forged Authorization headers`, async () => {
      await fc.assert(
        fc.asyncProperty(printable, async (auth) => {
          expectClientError(await send(`${method} ${path}`, method, path, undefined, { Authorization: auth }));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('POST /api/wechatpay/notify (headers and raw body)', async () => {
    const header = fc.option(
      fc.oneof(printable, fc.constant(String(Math.floor(Date.now() / 1000))), fc.constant('WECHATPAY/SIGNTEST/abc')),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(
        header,
        header,
        header,
        header,
        fc.oneof(anyJson, fc.constant('{"id":"x","resource":{}}')),
        async (serial, signature, timestamp, nonce, body) => {
          const headers: Record<string, string> = {};
          if (serial !== undefined) headers['Wechatpay-Serial'] = serial;
          if (signature !== undefined) headers['Wechatpay-Signature'] = signature;
          if (timestamp !== undefined) headers['Wechatpay-Timestamp'] = timestamp;
          if (nonce !== undefined) headers['Wechatpay-Nonce'] = nonce;
          expectClientError(await send('POST /api/wechatpay/notify', 'POST', '/api/wechatpay/notify', body, headers), true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('is still healthy afterwards', async () => {
    expect((await fetch(`${sys.api}/api/health`)).status).toBe(200);
  });
});
