import type { OrderView } from './orders';

const STATUS = { SHIPPED: '已发货', RECEIVED: '已收货', COMPLETED: '已完成' } as const;

/** 待发货 / 已发货 · 圆通速递 YT123 / 已完成, for a paid order that is not refunded in full; null otherwise. */
export function shipmentSummary(o: Pick<OrderView, 'status' | 'shipment' | 'refundedTotal' | 'total'>): string | null {
  if (o.status !== 'PAID' || o.refundedTotal >= o.total) return null;
  if (!o.shipment) return '待发货';
  const parcels = o.shipment.packages.filter((p) => p.trackingNo).map((p) => `${p.carrierName ?? p.carrier} ${p.trackingNo}`);
  return [STATUS[o.shipment.status], ...parcels].join(' · ');
}
