// Reading orders back. While an order is pending after a payment attempt, reading it asks the
// provider (throttled per order), so the result page confirms promptly even when the
// notification is late.
import type { OrderRecords, OrderStore } from './ports/store';
import type { CheckoutDeps } from './deps';
import { notFound } from './errors';
import { toOrderView, type Order, type OrderView } from './order';
import { applyPaymentSucceeded } from './payment-events';
import type { User } from './user';

export async function ownOrder(store: OrderStore, user: User, id: string): Promise<Order> {
  const order = await store.findOrder(id);
  // Another user's order is indistinguishable from a missing one.
  if (!order || order.userId !== user.id) throw notFound('order');
  return order;
}

/** The order as the API shows it, with its payments and refunds summarized (a shipment only once paid). */
export const toView = ({ order, payments, refunds, shipment }: OrderRecords): OrderView =>
  toOrderView(order, { payments, refunds, shipment: order.status === 'PAID' ? shipment : null });

/** A page of orders as the API shows them: their records read in a constant number of queries. */
export async function viewOrders(store: OrderStore, orders: readonly Order[]): Promise<OrderView[]> {
  return (await store.findRecordsOfOrders(orders)).map(toView);
}

/** The order as stored now (one read), or as `fallback` was if it is gone (and its records with it). */
export async function viewOrderNow(store: OrderStore, fallback: Order): Promise<OrderView> {
  const records = await store.findOrderRecords(fallback.id);
  return toView(records ?? { order: fallback, payments: [], refunds: [], shipment: null });
}

export async function getOrder(deps: CheckoutDeps, user: User, id: string): Promise<OrderView> {
  let records = await deps.store.findOrderRecords(id);
  // Another user's order is indistinguishable from a missing one.
  if (!records || records.order.userId !== user.id) throw notFound('order');
  if (records.order.status === 'PENDING' && (await confirmWithProvider(deps, records.order))) {
    records = (await deps.store.findOrderRecords(id)) ?? records;
  }
  // Only a paid order can be complained about: one more indexed read, for paid orders only.
  if (records.order.status !== 'PENDING') {
    const [latest] = await deps.store.listComplaints({ orderId: id, limit: 1 });
    if (latest && latest.state !== 'RESOLVED') return { ...toView(records), complaint: 'OPEN' };
  }
  return toView(records);
}

async function confirmWithProvider(deps: CheckoutDeps, order: Order): Promise<boolean> {
  const now = deps.now();
  const last = deps.queryThrottle.get(order.id) ?? 0;
  if (now - last < deps.queryThrottleMs) return false;
  const attempt = await deps.store.findAttempt(order.outTradeNo);
  if (!attempt?.prepayId) return false; // never offered for payment: nothing to ask
  // Throttled per order, and for the whole process: reads must not turn into a flood of WeChat calls.
  if (!(await deps.mayQueryProvider())) return false;
  if (deps.queryThrottle.size > 10_000) deps.queryThrottle.delete(deps.queryThrottle.keys().next().value!);
  deps.queryThrottle.set(order.id, now);
  try {
    const status = await deps.provider.query(order.outTradeNo);
    if (status?.state !== 'SUCCEEDED') return false;
    const r = await applyPaymentSucceeded(deps, status.payment, 'query');
    return r.outcome === 'APPLIED' || r.outcome === 'ALREADY_PAID';
  } catch (err) {
    deps.logger.warn({ orderId: order.id, err: (err as Error).message }, 'order query at WeChat Pay failed; showing stored state');
    return false;
  }
}

export async function listOrders(deps: Pick<CheckoutDeps, 'store'>, user: User): Promise<OrderView[]> {
  return viewOrders(deps.store, await deps.store.listOrdersByUser(user.id, 50));
}
