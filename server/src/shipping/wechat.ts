// The shipping port over WeChat's order shipping-info API: the shop's shipment in WeChat's fields
// (logistics_type, delivery_mode, shipping_list with item_desc, the SF contact masked, upload_time in
// RFC 3339 +08:00), WeChat's order_state back in the shop's terms, and WeChat's refusals with a fix.
import { maskPhone, type LogisticsType } from '../domain/shipment';
import { WechatApiError } from '../wechat/access-token';
import { beijingTimeMillis } from '../wechatpay/time';
import { createShippingApi, ORDER_STATE, type ShippingApi, type UploadShippingInfo } from '../wechat/shipping-api';
import {
  type ShippingPush,
  ShippingProviderError,
  type ShippingProvider,
  type WechatFulfilment,
  type WechatOrderStatus,
} from '../domain/ports/shipping-provider';

const LOGISTICS: Record<LogisticsType, 1 | 2 | 3 | 4> = { express: 1, 'same-city': 2, virtual: 3, pickup: 4 };
const STATES: Record<number, WechatFulfilment> = {
  [ORDER_STATE.TO_SHIP]: 'TO_SHIP',
  [ORDER_STATE.SHIPPED]: 'SHIPPED',
  [ORDER_STATE.CONFIRMED]: 'RECEIVED',
  [ORDER_STATE.AWAITING_SETTLEMENT]: 'RECEIVED',
  [ORDER_STATE.COMPLETED]: 'COMPLETED',
  [ORDER_STATE.REFUNDED]: 'REFUNDED',
};
const statusOf = (orderState: number): WechatOrderStatus => ({ state: STATES[orderState] ?? 'TO_SHIP', wechatState: orderState });

const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** A push's time field: seconds, as a number or a string of digits. */
const seconds = (v: unknown) =>
  typeof v === 'number' && v > 0 ? v : typeof v === 'string' && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : null;

/** trade_manage_order_settlement carries a settlement time once settled, a confirm time once received; else it reports the shipping. */
function readPush(message: Record<string, unknown>, now: number): ShippingPush {
  const event = text(message.Event);
  const outTradeNo = text(message.merchant_trade_no).slice(0, 64);
  if (event === 'trade_manage_order_settlement') {
    const settled = seconds(message.settlement_time);
    const confirmed = seconds(message.confirm_receive_time);
    if (settled) return { kind: 'ORDER_MOVED', outTradeNo, ...statusOf(ORDER_STATE.COMPLETED), at: settled * 1000 };
    if (confirmed) return { kind: 'ORDER_MOVED', outTradeNo, ...statusOf(ORDER_STATE.CONFIRMED), at: confirmed * 1000 };
    return { kind: 'ORDER_MOVED', outTradeNo, ...statusOf(ORDER_STATE.SHIPPED), at: now };
  }
  // complaints.md §14: the fields at the top level (JSON, strings) or inside BussiCallBackInfo; the event name
  // is also seen with a space.
  if (event === 'complaint_callback' || event === 'complaint callback') {
    const info = (typeof message.BussiCallBackInfo === 'object' && message.BussiCallBackInfo) || message;
    const id = String((info as Record<string, unknown>).complaint_order_id ?? '');
    if (/^\d{1,32}$/.test(id)) return { kind: 'COMPLAINT', complaintId: id };
    return { kind: 'OTHER', event: 'complaint_callback without complaint_order_id' };
  }
  if (event === 'trade_manage_remind_shipping')
    return { kind: 'REMIND_SHIPPING', outTradeNo, transactionId: text(message.transaction_id).slice(0, 64) };
  return { kind: 'OTHER', event: event.slice(0, 64) };
}

/** What to change, for the refusals an operator can fix (shipping.md §6). */
const FIXES: Record<number, string> = {
  10060001: 'WeChat does not know this payment: check WECHATPAY_MCHID and that the order was paid through this merchant',
  10060002: 'WeChat already has this order fully shipped',
  10060003:
    'the one change WeChat allows has been used: change the shipment in the mini program admin console (发货信息管理) if it must change',
  10060004: 'WeChat will not ship this order in its state (receipt confirmed, or refunded)',
  10060005: 'logisticsType must be express, same-city, virtual or pickup',
  10060006: 'several packages are allowed for express only: send one package',
  10060009: 'the item description is over 120 characters',
  10060014:
    'a field WeChat refused: check the carrier (from GET /api/admin/carriers), the tracking number and, for SF Express, SHOP_CONTACT_PHONE',
  10060023: 'nothing changed: this is what WeChat already has',
  10060024: 'at most 15 packages',
  10060025: 'the carrier id is too long: use one from GET /api/admin/carriers',
  10060026: 'the tracking number is over 128 bytes',
  10060031: "the order's payer is not the shopper WeChat knows: check WECHAT_APPID",
  268485216: 'upload_time was not RFC 3339 (a bug: report it)',
  268485226: 'express shipments need a tracking number',
  268485227: 'express shipments need a carrier',
};

export interface WechatShippingOptions {
  baseUrl: string;
  appid: string;
  appSecret: string;
  mchid: string;
  /** The shop's contact number, sent masked with SF Express shipments. */
  contactPhone: string | null;
  now?: () => number;
}

export function createWechatShipping(o: WechatShippingOptions & { api?: ShippingApi }): ShippingProvider & { api: ShippingApi } {
  const api = o.api ?? createShippingApi(o);
  let carriers: { at: number; list: { id: string; name: string }[] } | null = null;
  const now = o.now ?? Date.now;
  const failure = (err: unknown): never => {
    if (!(err instanceof WechatApiError)) throw err;
    const retryable = err.retryable;
    throw new ShippingProviderError(
      err.errcode,
      err.message,
      retryable,
      retryable ? null : (FIXES[err.errcode ?? 0] ?? 'WeChat refused the shipment: check its fields against its message'),
    );
  };
  return {
    api,
    async upload(u) {
      const express = u.logisticsType === 'express';
      const split = express && u.packages.length > 1;
      const list = express
        ? u.packages.map((p) => ({
            tracking_no: p.trackingNo ?? '',
            express_company: p.carrier ?? '',
            item_desc: u.itemDesc,
            // SF Express wants a contact number, masked; the full number never leaves the server.
            ...(p.carrier === 'SF' && o.contactPhone ? { contact: { consignor_contact: maskPhone(o.contactPhone) } } : {}),
          }))
        : [{ item_desc: u.itemDesc }];
      const info: UploadShippingInfo = {
        order_key: { order_number_type: 1, mchid: o.mchid, out_trade_no: u.outTradeNo },
        logistics_type: LOGISTICS[u.logisticsType],
        delivery_mode: split ? 2 : 1,
        ...(split ? { is_all_delivered: u.allDelivered } : {}),
        shipping_list: list,
        upload_time: beijingTimeMillis(u.uploadTime),
        payer: { openid: u.payerOpenid },
      };
      await api.upload(info).catch(failure);
      return statusOf(ORDER_STATE.SHIPPED);
    },
    async status(outTradeNo) {
      try {
        const order = await api.getOrder(o.mchid, outTradeNo);
        return statusOf(order.order_state);
      } catch (err) {
        if (err instanceof WechatApiError && err.errcode === 10060001) return null;
        return failure(err);
      }
    },
    async carriers() {
      if (carriers && now() - carriers.at < 3600_000) return carriers.list;
      const list = (await api.deliveryList().catch(failure)).map((d) => ({ id: d.delivery_id, name: d.delivery_name }));
      carriers = { at: now(), list };
      return list;
    },
    readPush: (message) => readPush(message, now()),
    async setJumpPath(path) {
      await api.setMsgJumpPath(path).catch(failure);
    },
  };
}
