// The shipping port: what the domain needs from WeChat's shipping-info management, in the shop's
// terms. server/src/shipping/wechat.ts implements it over the real API (or the sandbox's copy of it).
import type { LogisticsType, ShipmentPackage } from '../shipment';

export interface ShipmentUpload {
  outTradeNo: string;
  payerOpenid: string;
  logisticsType: LogisticsType;
  packages: ShipmentPackage[];
  allDelivered: boolean;
  itemDesc: string;
  uploadTime: number;
}

/** Where WeChat has the order (its order_state, mapped): RECEIVED covers 3 (confirmed) and 6 (awaiting settlement). */
export type WechatFulfilment = 'TO_SHIP' | 'SHIPPED' | 'RECEIVED' | 'COMPLETED' | 'REFUNDED';

export class ShippingProviderError extends Error {
  constructor(
    /** WeChat's errcode; null when it could not be reached. */
    readonly code: number | null,
    message: string,
    /** Worth sending again later (busy, unreachable); otherwise WeChat refused the content. */
    readonly retryable: boolean,
    /** For a refusal: what the operator should change. */
    readonly fix: string | null = null,
  ) {
    super(message);
    this.name = 'ShippingProviderError';
  }
}

/** Where WeChat has an order: the shop's word for it, and WeChat's own order_state (kept for the operator). */
export interface WechatOrderStatus {
  state: WechatFulfilment;
  wechatState: number;
}

/** What a message push from WeChat's shipping-info management says, in the shop's terms. */
export type ShippingPush =
  /** The order moved (shipped, receipt confirmed, settled) at `at` (epoch ms). */
  | ({ kind: 'ORDER_MOVED'; outTradeNo: string; at: number } & WechatOrderStatus)
  /** The order has been unshipped for 48 hours. */
  | { kind: 'REMIND_SHIPPING'; outTradeNo: string; transactionId: string }
  /** A trade complaint (交易类投诉) was filed or moved: look it up by its id. */
  | { kind: 'COMPLAINT'; complaintId: string }
  | { kind: 'OTHER'; event: string };

export interface ShippingProvider {
  /** Uploads the shipment; resolves with where WeChat has the order then. */
  upload(u: ShipmentUpload): Promise<WechatOrderStatus>;
  /** null when WeChat does not know the order. */
  status(outTradeNo: string): Promise<WechatOrderStatus | null>;
  /** Reads a verified, decrypted message push. */
  readPush(message: Record<string, unknown>): ShippingPush;
  /** WeChat's delivery list (cached). */
  carriers(): Promise<{ id: string; name: string }[]>;
  setJumpPath(path: string): Promise<void>;
}
