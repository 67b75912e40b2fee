// Orders as a store holds them, for the contract suite and the bench: one place that knows the shape.
import type { Order, PaymentAttempt } from '../src/domain/order';

let seq = 0;
export const uniq = () => `${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export function makeOrder(userId: string, over: Partial<Order> = {}): { order: Order; attempt: PaymentAttempt } {
  const id = `ord_${uniq().padEnd(32, '0').slice(0, 32)}`;
  const outTradeNo = over.outTradeNo ?? `T${uniq()}`.slice(0, 32);
  const order: Order = {
    id,
    userId,
    lines: [{ sku: 'MUG-CERAMIC', name: '陶瓷马克杯', unitPrice: 4500, quantity: 2, lineTotal: 9000 }],
    total: 9000,
    currency: 'CNY',
    description: '陶瓷马克杯 ×2',
    status: 'PENDING',
    outTradeNo,
    payDeadline: 2_000_000,
    idempotencyKey: null,
    requestHash: null,
    transactionId: null,
    paidAt: null,
    closedAt: null,
    reviewReason: null,
    createdAt: 1000,
    updatedAt: 1000,
    ...over,
  };
  return { order, attempt: { outTradeNo, orderId: id, requestBody: '{"x":1}', prepayId: null, prepayExpiresAt: null, createdAt: 1000 } };
}
