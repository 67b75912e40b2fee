// What the parts of the shipping sandbox share: WeChat's answer shape and the records of paid orders.
import crypto from 'node:crypto';
import type { Response } from 'express';

/** WeChat's carriers, as get_delivery_list names them (a subset; the real list has ~1,400). */
export const DELIVERY_LIST = [
  { delivery_id: 'SF', delivery_name: '顺丰速运' },
  { delivery_id: 'YTO', delivery_name: '圆通速递' },
  { delivery_id: 'ZTO', delivery_name: '中通快递' },
  { delivery_id: 'STO', delivery_name: '申通快递' },
  { delivery_id: 'YD', delivery_name: '韵达速递' },
  { delivery_id: 'JTSD', delivery_name: '极兔速递' },
  { delivery_id: 'EMS', delivery_name: 'EMS' },
  { delivery_id: 'JD', delivery_name: '京东快递' },
  { delivery_id: 'DHL', delivery_name: 'DHL' },
];
/** The confirm-receipt component's appId, as App.onShow's referrerInfo names it. */
export const CONFIRM_COMPONENT_APPID = 'wx1183b055aeec94d1';

const rid = () =>
  `${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}`;
/** WeChat's answer: HTTP 200, errcode 0 with `ok`, or an errcode with a message and a request id. */
export const answer = (res: Response, errcode: number, errmsg: string, extra: Record<string, unknown> = {}) =>
  res.json({ errcode, errmsg: errcode === 0 ? 'ok' : `${errmsg} rid: ${rid()}`, ...extra });

export interface ShippingPackage {
  tracking_no?: string;
  express_company?: string;
  goods_desc: string;
  upload_time: number;
  contact?: { consignor_contact?: string; receiver_contact?: string };
}

export interface ShippingOrder {
  transactionId: string;
  outTradeNo: string;
  openid: string;
  amount: number;
  payTime: number;
  /** WeChat's order_state (ORDER_STATE). */
  state: number;
  logisticsType: number | null;
  deliveryMode: number | null;
  finishCount: number;
  packages: ShippingPackage[];
  lastUploadTime: number;
  /** The last accepted upload, canonical: an identical one changes nothing (10060023). */
  lastUpload: string | null;
  shippedAt: number | null;
  reminded: boolean;
  confirmTimer: NodeJS.Timeout | null;
  /** Every accepted upload's body, exactly as received. */
  uploads: Record<string, unknown>[];
}

export interface ShippingControls {
  /** The next `times` upload_shipping_info calls answer this errcode (e.g. -1, system busy). */
  failShippingUploads: { errcode: number; times: number } | null;
  /** Message pushes from now on that are never sent (a count). */
  dropMessagePushes: number;
  /** After shipping, the platform confirms receipt for the shopper after this many seconds (× timeScale).
   *  choice: WeChat's T+10 days (express) / T+2 (others) is unconfirmed; 0 turns the timer off. */
  autoConfirmSeconds: number;
}

export const DEFAULT_SHIPPING_CONTROLS: ShippingControls = {
  failShippingUploads: null,
  dropMessagePushes: 0,
  autoConfirmSeconds: 10 * 86_400,
};
