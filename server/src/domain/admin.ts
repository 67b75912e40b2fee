// What an operator sees of orders: everything the shop knows of one order, and pages of orders.
import type { NotificationStore, OrderStore, PaymentStore, ShipmentStore } from './ports/store';

/** What the operator's views read. */
export type AdminStores = OrderStore & PaymentStore & NotificationStore & ShipmentStore;
import { notFound } from './errors';
import type { NotificationRecord } from './notification';
import type { Order, OrderStatus, OrderView, PaymentAttempt } from './order';
import { toView, viewOrders } from './read-orders';
import type { PaymentRecord, Refund } from './refund';
import type { Shipment } from './shipment';

export interface AdminOrder {
  order: OrderView & { userId: string; reviewReason: string | null };
  attempts: Omit<PaymentAttempt, 'requestBody'>[];
  payments: PaymentRecord[];
  notifications: NotificationRecord[];
  refunds: Refund[];
  /** The shipment with its upload state, WeChat's refusal if any, and WeChat's order_state. */
  shipment: Shipment | null;
}

export async function adminOrder(store: AdminStores, id: string): Promise<AdminOrder> {
  const records = await store.findOrderRecords(id);
  if (!records) throw notFound('order');
  const { order, payments, refunds, shipment } = records;
  const attempts = await store.listAttempts(order.id);
  const notifications = await store.listNotificationsFor(attempts.map((a) => a.outTradeNo));
  const view = toView(records);
  return {
    order: { ...view, userId: order.userId, reviewReason: order.reviewReason },
    attempts: attempts.map(({ requestBody: _omitted, ...a }) => a),
    payments,
    notifications,
    refunds,
    shipment,
  };
}

export interface AdminOrderPage {
  orders: (OrderView & { reviewReason: string | null })[];
  /** Pass as `before` for the next page; null on the last page. */
  next: string | null;
}

export async function adminListOrders(
  store: AdminStores,
  f: { status?: OrderStatus; refundDue?: boolean; before?: string; limit: number },
): Promise<AdminOrderPage> {
  const createdBefore = f.before ? Date.parse(f.before) : undefined;
  const orders: Order[] = await store.listOrders({ status: f.status, refundDue: f.refundDue, createdBefore, limit: f.limit });
  const views = (await viewOrders(store, orders)).map((v, i) => ({ ...v, reviewReason: orders[i]!.reviewReason }));
  const last = orders[orders.length - 1];
  return { orders: views, next: orders.length === f.limit && last ? new Date(last.createdAt).toISOString() : null };
}
