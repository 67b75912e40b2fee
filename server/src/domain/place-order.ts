// Placing an order: price the cart from the catalog, save the order with its first payment
// attempt, then offer it for payment. A replayed Idempotency-Key gives back the same order.
import crypto from 'node:crypto';
import type { CatalogStore } from './ports/store';
import type { CheckoutDeps } from './deps';
import { AppError, DuplicateKeyError, invalid } from './errors';
import { lineTotal } from './money';
import type { Order, OrderLine } from './order';
import { leaseOwner, newPaymentAttempt, preparePayment, withOrderId, type CheckoutResult } from './payment-attempts';
import { viewOrderNow } from './read-orders';
import type { User } from './user';

export interface CartItem {
  sku: string;
  quantity: number;
}

function describe(lines: OrderLine[]): string {
  const first = lines[0]!;
  const count = lines.reduce((n, l) => n + l.quantity, 0);
  const text = lines.length > 1 ? `${first.name} 等${count}件` : count > 1 ? `${first.name} ×${count}` : first.name;
  return [...text].slice(0, 120).join('');
}

export function cartHash(items: CartItem[]): string {
  const canonical = items.map((i) => `${i.sku}\u0000${i.quantity}`).join('\u0001');
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

async function priceCart(store: CatalogStore, items: CartItem[]): Promise<{ lines: OrderLine[]; total: number }> {
  const catalog = new Map((await store.listProducts()).map((p) => [p.sku, p]));
  const seen = new Set<string>();
  const lines = items.map((item, i): OrderLine => {
    const product = catalog.get(item.sku);
    if (!product)
      throw new AppError('UNKNOWN_SKU', `items[${i}].sku: no product ${JSON.stringify(item.sku)}`, { field: `items[${i}].sku` });
    if (seen.has(item.sku)) throw invalid(`items[${i}].sku`, `${item.sku} appears twice; send one line per sku`);
    seen.add(item.sku);
    if (item.quantity > product.maxQuantity) throw invalid(`items[${i}].quantity`, `at most ${product.maxQuantity} of ${item.sku}`);
    return {
      sku: product.sku,
      name: product.name,
      unitPrice: product.price,
      quantity: item.quantity,
      lineTotal: lineTotal(product.price, item.quantity),
    };
  });
  const total = lines.reduce((sum, l) => sum + l.lineTotal, 0);
  if (total <= 0) throw invalid('items', 'the order total must be more than 0');
  return { lines, total };
}

export async function createOrder(
  deps: CheckoutDeps,
  user: User,
  items: CartItem[],
  idempotencyKey: string | null,
): Promise<CheckoutResult> {
  const requestHash = cartHash(items);
  if (idempotencyKey) {
    const existing = await deps.store.findOrderByIdempotencyKey(user.id, idempotencyKey);
    if (existing) return replay(deps, user, existing, requestHash);
  }
  const { lines, total } = await priceCart(deps.store, items);
  const now = deps.now();
  const outTradeNo = deps.provider.newReference(now);
  const order: Order = {
    id: `ord_${crypto.randomUUID().replaceAll('-', '')}`,
    userId: user.id,
    lines,
    total,
    currency: 'CNY',
    description: describe(lines),
    status: 'PENDING',
    outTradeNo,
    payDeadline: now + deps.payWindowMs,
    idempotencyKey,
    requestHash,
    transactionId: null,
    paidAt: null,
    closedAt: null,
    reviewReason: null,
    createdAt: now,
    updatedAt: now,
  };
  const attempt = newPaymentAttempt(deps, order, outTradeNo, user.openid, now);
  const owner = leaseOwner();
  try {
    // Saved before calling out: if WeChat Pay fails, the order is there for a retry. It is saved
    // leased to this request, which offers it for payment next: one write where a claim would be another.
    await deps.store.insertOrder(order, attempt, { owner, until: now + deps.leaseMs });
  } catch (err) {
    if (err instanceof DuplicateKeyError && err.index === 'idempotency_key' && idempotencyKey) {
      const winner = await deps.store.findOrderByIdempotencyKey(user.id, idempotencyKey);
      if (winner) return replay(deps, user, winner, requestHash);
    }
    throw err;
  }
  const payment = await withOrderId(order.id, preparePayment(deps, user, order, owner));
  return { order: await viewOrderNow(deps.store, order), payment, replayed: false };
}

async function replay(deps: CheckoutDeps, user: User, existing: Order, requestHash: string): Promise<CheckoutResult> {
  if (existing.requestHash !== requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different cart; use a new key for a new order');
  }
  const payment = await withOrderId(existing.id, preparePayment(deps, user, existing));
  return { order: await viewOrderNow(deps.store, existing), payment, replayed: true };
}
