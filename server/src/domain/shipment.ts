// Fulfilment, separate from payment state: a paid order is 待发货 (to ship) until the operator records a
// shipment; then SHIPPED → RECEIVED → COMPLETED, forward only. A shipment is recorded first, then
// uploaded to WeChat's shipping-info management; its upload is PENDING (to send or send again),
// ACCEPTED, or REFUSED with WeChat's code and what to fix. WeChat allows one change of a shipment.

export type ShipmentStatus = 'SHIPPED' | 'RECEIVED' | 'COMPLETED';
export type LogisticsType = 'express' | 'same-city' | 'virtual' | 'pickup';
export type UploadState = 'PENDING' | 'ACCEPTED' | 'REFUSED';

export interface ShipmentPackage {
  /** A delivery_id from WeChat's delivery list (express only). */
  carrier: string | null;
  /** The carrier's name in WeChat's delivery list, kept with the shipment for the shopper's page. */
  carrierName?: string | null;
  trackingNo: string | null;
}

export interface Shipment {
  orderId: string;
  /** The merchant that took the payment: WeChat's confirm-receipt component names the order by it. */
  merchantId: string;
  status: ShipmentStatus;
  logisticsType: LogisticsType;
  packages: ShipmentPackage[];
  /** Split deliveries: whether this upload finishes the shipping. */
  allDelivered: boolean;
  /** Built from the order lines, at most 120 characters. */
  itemDesc: string;
  /** 1, or 2 once the one change WeChat allows has been used. */
  shipCount: 1 | 2;
  upload: UploadState;
  /** The upload_time sent (epoch ms): each upload's is later than the last. */
  uploadTime: number;
  uploadAttempts: number;
  refusal: { code: number; message: string; fix: string } | null;
  /** WeChat's order_state when last seen (1–6), for the operator. */
  wechatState: number | null;
  /** An upload in flight holds the shipment until `until` (epoch ms): nobody else uploads it meanwhile, and its
   *  answer is recorded only while it still holds it. Absent on shipments recorded before uploads held them. */
  uploadClaim?: { owner: string; until: number } | null;
  /** Conditional writes: each save names the version it replaces. */
  version: number;
  createdAt: number;
  updatedAt: number;
  receivedAt: number | null;
  completedAt: number | null;
}

const RANK: Record<ShipmentStatus, number> = { SHIPPED: 1, RECEIVED: 2, COMPLETED: 3 };
/** Whether moving from `from` to `to` goes forward (never back, never sideways). */
export const movesForward = (from: ShipmentStatus, to: ShipmentStatus) => RANK[to] > RANK[from];

/** Whether an upload in flight holds the shipment at `now`. */
export const isUploadHeld = (s: Pick<Shipment, 'uploadClaim'>, now: number): boolean => Boolean(s.uploadClaim && s.uploadClaim.until > now);

/**
 * Shipments reconciliation looks after: uploads still PENDING (to send again), and accepted ones not yet
 * COMPLETED (to follow at WeChat: its pushes can be lost), unless an upload holds them at `now`. REFUSED
 * uploads wait for the operator.
 */
export const needsShipmentSync = (s: Pick<Shipment, 'upload' | 'status' | 'uploadClaim'>, now: number): boolean =>
  !isUploadHeld(s, now) && (s.upload === 'PENDING' || (s.upload === 'ACCEPTED' && s.status !== 'COMPLETED'));

/** What the shopper sees. */
export interface ShipmentView {
  status: ShipmentStatus;
  /** For wx.openBusinessView's extraData (merchant_id, with the order's outTradeNo as merchant_trade_no). */
  merchantId: string;
  logisticsType: LogisticsType;
  packages: { carrier: string | null; carrierName: string | null; trackingNo: string | null }[];
  shippedAt: string;
}

export function toShipmentView(s: Shipment): ShipmentView {
  return {
    status: s.status,
    merchantId: s.merchantId,
    logisticsType: s.logisticsType,
    packages: s.packages.map((p) => ({ carrier: p.carrier, carrierName: p.carrierName ?? null, trackingNo: p.trackingNo })),
    shippedAt: new Date(s.createdAt).toISOString(),
  };
}

/** "陶瓷马克杯*2;贴纸一套*1", cut to 120 characters as WeChat requires (… when cut). */
export function itemDescription(lines: readonly { name: string; quantity: number }[]): string {
  const text = lines.map((l) => `${l.name}*${l.quantity}`).join(';');
  const chars = [...text];
  return chars.length <= 120 ? text : `${chars.slice(0, 119).join('')}…`;
}

/** "13800138000" → "138****8000"; "+86-13800138000" → "+86-138****8000"; "021-12345678" → "021-****5678". */
export function maskPhone(phone: string): string {
  const m = /^(\+\d{1,3}-)?(.*)$/.exec(phone.trim())!;
  const prefix = m[1] ?? '';
  const rest = m[2]!;
  const digits = rest.replace(/\D/g, '');
  const last4 = digits.slice(-4);
  if (rest.includes('-')) return `${prefix}${rest.slice(0, rest.indexOf('-') + 1)}****${last4}`;
  return `${prefix}${digits.length > 7 ? digits.slice(0, 3) : ''}****${last4}`;
}
