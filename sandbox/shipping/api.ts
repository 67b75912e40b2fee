// WeChat's order shipping-info API as the sandbox answers it (shipping.md §3): upload_shipping_info with
// its validation and the order-state machine, get_order, get_order_list, notify_confirm_receive,
// set_msg_jump_path, is_trade_managed and the delivery list. Choices where WeChat's behaviour is
// unconfirmed are marked "choice:" and listed in README.
import express, { type Router } from 'express';
import { ORDER_STATE } from '../../server/src/wechat/shipping-api';
import type { SandboxState } from '../state';
import { answer, DELIVERY_LIST, type ShippingControls, type ShippingPackage } from './common';
import type { SandboxPushes } from './pushes';
import type { ShippingRecords } from './records';
import type { SandboxTokens } from './tokens';

const CARRIERS = new Set(DELIVERY_LIST.map((d) => d.delivery_id));
/** RFC 3339 with an offset (Z or ±hh:mm), optional fraction: what upload_time must be. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const bytes = (v: string) => Buffer.byteLength(v, 'utf8');

export function shippingApiRoutes(
  s: SandboxState,
  o: {
    tokens: SandboxTokens;
    records: ShippingRecords;
    pushes: SandboxPushes;
    controls: ShippingControls;
    setJumpPath(path: string): void;
  },
): Router {
  const { tokens, records, pushes, controls } = o;
  const routes = express.Router();
  routes.all(
    '/wxa/sec/order/upload_shipping_info',
    ...tokens.business((_req, res, b) => {
      const key = b.order_key as Record<string, unknown> | undefined;
      if (!key || typeof key !== 'object') return answer(res, 268485194, 'invalid order_number_type');
      if (key.order_number_type !== 1 && key.order_number_type !== 2) return answer(res, 268485194, 'invalid order_number_type');
      if (key.order_number_type === 2 && !key.transaction_id) return answer(res, 268485195, 'transaction_id is empty');
      if (key.order_number_type === 1 && !key.mchid) return answer(res, 268485196, 'mchid is empty');
      if (key.order_number_type === 1 && !key.out_trade_no) return answer(res, 268485197, 'out_trade_no is empty');
      if (b.delivery_mode !== 1 && b.delivery_mode !== 2) return answer(res, 268485224, 'invalid delivery_mode');
      const list = b.shipping_list;
      if (list !== undefined && !Array.isArray(list)) return answer(res, 47001, 'data format error');
      if (!Array.isArray(list) || (b.delivery_mode === 1 && list.length !== 1))
        return answer(res, 268485228, 'unified delivery requires exactly one shipping_list item');
      if (list.length > 15) return answer(res, 10060024, 'shipping_list too long');
      if (![1, 2, 3, 4].includes(b.logistics_type as number)) return answer(res, 10060005, 'invalid logistics_type');
      if (b.delivery_mode === 2 && b.logistics_type !== 1) return answer(res, 10060006, 'split delivery is for express only');
      if (b.delivery_mode === 2 && typeof b.is_all_delivered !== 'boolean')
        return answer(res, 10060007, 'is_all_delivered is required in split mode');
      for (const item of list as Record<string, unknown>[]) {
        if (!item || typeof item !== 'object') return answer(res, 47001, 'data format error');
        if (b.logistics_type === 1) {
          if (!item.tracking_no) return answer(res, 268485226, 'tracking_no is empty');
          if (!item.express_company) return answer(res, 268485227, 'express_company is empty');
          if (bytes(String(item.tracking_no)) > 128) return answer(res, 10060026, 'tracking_no too long');
          if (bytes(String(item.express_company)) > 128) return answer(res, 10060025, 'express_company too long');
          // choice: an express_company outside the delivery list is refused with 10060014.
          if (!CARRIERS.has(String(item.express_company)))
            return answer(res, 10060014, `unknown express_company ${String(item.express_company).slice(0, 20)}`);
          // choice: SF requires a masked contact; the errcode for its absence is unconfirmed, 10060014 here.
          if (item.express_company === 'SF') {
            const c = item.contact as Record<string, unknown> | undefined;
            const v = String(c?.consignor_contact ?? c?.receiver_contact ?? '');
            if (!/^(\+\d{1,3}-)?[\d-]*\*{4}\d{4}$/.test(v))
              return answer(res, 10060014, 'SF requires contact.consignor_contact or receiver_contact, masked (e.g. 189****1234)');
          }
        }
        if (!item.item_desc || typeof item.item_desc !== 'string') return answer(res, 10060008, 'item_desc is empty');
        if ([...item.item_desc].length > 120) return answer(res, 10060009, 'item_desc too long');
      }
      if (typeof b.upload_time !== 'string' || !RFC3339.test(b.upload_time)) return answer(res, 268485216, 'upload_time is not RFC 3339');
      const payer = b.payer as Record<string, unknown> | undefined;
      if (!payer || typeof payer.openid !== 'string' || !payer.openid) return answer(res, 10060014, 'payer.openid is required');
      if (controls.failShippingUploads && controls.failShippingUploads.times > 0) {
        controls.failShippingUploads.times -= 1;
        const code = controls.failShippingUploads.errcode;
        if (controls.failShippingUploads.times === 0) controls.failShippingUploads = null;
        return answer(res, code, code === -1 ? 'system error' : 'failed by the sandbox switch');
      }
      const r = records.find(key);
      if (!r) return answer(res, 10060001, 'payment order not found');
      if (r.openid !== payer.openid) return answer(res, 10060031, 'the order does not belong to payer.openid');
      if (r.state !== ORDER_STATE.TO_SHIP && r.state !== ORDER_STATE.SHIPPED)
        return answer(res, 10060004, 'the order cannot be shipped in its state');
      const uploadTime = Date.parse(b.upload_time);
      // choice: a stale upload_time (not after the last upload) is 10060014.
      if (uploadTime <= r.lastUploadTime) return answer(res, 10060014, 'upload_time must be later than the previous upload');
      const canonical = JSON.stringify([b.logistics_type, b.delivery_mode, list]);
      if (r.lastUpload === canonical) return answer(res, 10060023, 'shipping info not updated');
      const reship = r.finishCount > 0;
      if (reship && r.finishCount >= 2) return answer(res, 10060003, 'the re-ship chance has been used');
      const packages = (list as Record<string, unknown>[]).map((i) => ({
        ...(i.tracking_no ? { tracking_no: String(i.tracking_no) } : {}),
        ...(i.express_company ? { express_company: String(i.express_company) } : {}),
        goods_desc: String(i.item_desc),
        upload_time: Math.floor(uploadTime / 1000),
        ...(i.contact ? { contact: i.contact as ShippingPackage['contact'] } : {}),
      }));
      r.lastUploadTime = uploadTime;
      r.lastUpload = canonical;
      r.uploads.push(b);
      r.logisticsType = b.logistics_type as number;
      r.deliveryMode = b.delivery_mode as number;
      if (reship) {
        r.packages = packages;
        r.finishCount = 2;
        pushes.shipped(r);
      } else if (b.delivery_mode === 1 || b.is_all_delivered === true) {
        r.packages = b.delivery_mode === 1 ? packages : [...r.packages, ...packages];
        if (r.packages.length > 15) return answer(res, 10060024, 'more than 15 packages');
        r.finishCount = 1;
        pushes.shipped(r);
      } else {
        r.packages = [...r.packages, ...packages];
        if (r.packages.length > 15) return answer(res, 10060024, 'more than 15 packages');
      }
      answer(res, 0, 'ok');
    }),
  );

  routes.all(
    '/wxa/sec/order/get_order',
    ...tokens.business((_req, res, b) => {
      if (!b.transaction_id && !(b.merchant_id && b.merchant_trade_no))
        return answer(res, 10060014, 'transaction_id or merchant_id + merchant_trade_no required');
      const r = records.find(b);
      if (!r) return answer(res, 10060001, 'payment order not found');
      answer(res, 0, 'ok', { order: records.json(r) });
    }),
  );

  routes.all(
    '/wxa/sec/order/get_order_list',
    ...tokens.business((_req, res, b) => {
      const range = (b.pay_time_range ?? {}) as { begin_time?: unknown; end_time?: unknown };
      const begin = typeof range.begin_time === 'number' ? range.begin_time : 0;
      const end = typeof range.end_time === 'number' ? range.end_time : 4294967295;
      const size = typeof b.page_size === 'number' && b.page_size > 0 ? Math.min(100, b.page_size) : 100;
      let from = 0;
      if (b.last_index !== undefined) {
        // An opaque cursor: the base64 of the next position; anything else is 10060011.
        const decoded = typeof b.last_index === 'string' ? Buffer.from(b.last_index, 'base64url').toString() : '';
        if (!/^pos:\d+$/.test(decoded)) return answer(res, 10060011, 'invalid last_index');
        from = Number(decoded.slice(4));
      }
      // Every paid order the sandbox took, oldest first, filtered as asked (pay_time inclusive).
      for (const o of s.orders.values()) records.of(o);
      const all = [...records.orders.values()]
        .filter((r) => r.payTime >= begin && r.payTime <= end)
        .filter((r) => b.order_state === undefined || r.state === b.order_state)
        .filter((r) => b.openid === undefined || r.openid === b.openid)
        .sort((x, y) => x.payTime - y.payTime || x.transactionId.localeCompare(y.transactionId));
      const page = all.slice(from, from + size);
      const hasMore = from + size < all.length;
      answer(res, 0, 'ok', {
        order_list: page.map(records.json),
        last_index: Buffer.from(`pos:${from + page.length}`).toString('base64url'),
        has_more: hasMore,
      });
    }),
  );

  routes.all(
    '/wxa/sec/order/notify_confirm_receive',
    ...tokens.business((_req, res, b) => {
      const r = records.find(b);
      if (!r) return answer(res, 10060001, 'payment order not found');
      if (r.state !== ORDER_STATE.SHIPPED) return answer(res, 10060028, 'the order is not shipped');
      if (r.logisticsType !== 1) return answer(res, 10060032, 'only express orders may be reminded');
      if (r.reminded) return answer(res, 10060030, 'the reminder was already used');
      if (typeof b.received_time !== 'number' || b.received_time * 1000 <= (r.shippedAt ?? 0))
        return answer(res, 10060029, 'invalid received_time');
      r.reminded = true;
      answer(res, 0, 'ok');
    }),
  );

  routes.all(
    '/wxa/sec/order/set_msg_jump_path',
    ...tokens.business((_req, res, b) => {
      if (typeof b.path !== 'string') return answer(res, 10060014, 'path is required');
      o.setJumpPath(b.path);
      answer(res, 0, 'ok');
    }),
  );

  routes.all(
    '/wxa/sec/order/is_trade_managed',
    ...tokens.business((_req, res, b) => {
      if (b.appid !== s.keys.appid) return answer(res, 40013, 'invalid appid');
      answer(res, 0, 'ok', { is_trade_managed: true });
    }),
  );

  routes.all(
    '/cgi-bin/express/delivery/open_msg/get_delivery_list',
    ...tokens.business((_req, res) => answer(res, 0, 'ok', { delivery_list: DELIVERY_LIST, count: DELIVERY_LIST.length })),
  );

  return routes;
}
