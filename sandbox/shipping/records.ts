// The shipping records of paid orders: created at ORDER_STATE.TO_SHIP the first time an order is seen
// paid, found by transaction id or by merchant id and out_trade_no, shown as get_order shows them.
import { ORDER_STATE } from '../../server/src/wechat/shipping-api';
import { current, type SandboxOrder, type SandboxState } from '../state';
import type { ShippingOrder } from './common';

export interface ShippingRecords {
  orders: Map<string, ShippingOrder>;
  /** The record of a paid order (null while unpaid); a fully refunded one not yet received is REFUNDED. */
  of(o: SandboxOrder): ShippingOrder | null;
  find(key: {
    transaction_id?: unknown;
    merchant_id?: unknown;
    mchid?: unknown;
    merchant_trade_no?: unknown;
    out_trade_no?: unknown;
  }): ShippingOrder | null;
  /** get_order's `order`. */
  json(r: ShippingOrder): Record<string, unknown>;
}

export function createShippingRecords(s: SandboxState): ShippingRecords {
  const orders = new Map<string, ShippingOrder>();
  const of = (o: SandboxOrder): ShippingOrder | null => {
    current(s, o);
    if (o.state !== 'SUCCESS' || !o.transactionId) return null;
    let r = orders.get(o.transactionId);
    if (!r) {
      r = {
        transactionId: o.transactionId,
        outTradeNo: o.body.out_trade_no,
        openid: o.body.payer.openid,
        amount: o.body.amount.total,
        payTime: Math.floor(Date.parse(o.successTime ?? new Date(s.now()).toISOString()) / 1000),
        state: ORDER_STATE.TO_SHIP,
        logisticsType: null,
        deliveryMode: null,
        finishCount: 0,
        packages: [],
        lastUploadTime: 0,
        lastUpload: null,
        shippedAt: null,
        reminded: false,
        confirmTimer: null,
        uploads: [],
      };
      orders.set(o.transactionId, r);
    }
    let refunded = 0;
    for (const f of s.refunds.values()) if (f.transactionId === o.transactionId && f.status === 'SUCCESS') refunded += f.amount;
    if (refunded >= r.amount && r.state < ORDER_STATE.CONFIRMED) r.state = ORDER_STATE.REFUNDED;
    return r;
  };
  return {
    orders,
    of,
    find(key) {
      if (typeof key.transaction_id === 'string') {
        const no = s.transactions.get(key.transaction_id);
        const o = no ? s.orders.get(no) : undefined;
        return o && o.transactionId === key.transaction_id ? of(o) : null;
      }
      const mchid = key.merchant_id ?? key.mchid;
      const no = key.merchant_trade_no ?? key.out_trade_no;
      if (mchid !== s.keys.mchid || typeof no !== 'string') return null;
      const o = s.orders.get(no);
      return o ? of(o) : null;
    },
    json: (r) => ({
      transaction_id: r.transactionId,
      merchant_id: s.keys.mchid,
      sub_merchant_id: '',
      merchant_trade_no: r.outTradeNo,
      description: r.packages
        .map((p) => p.goods_desc)
        .join(';')
        .replace(/^(.{120}).+$/su, '$1...'),
      paid_amount: r.amount,
      openid: r.openid,
      trade_create_time: r.payTime,
      pay_time: r.payTime,
      in_complaint: false,
      order_state: r.state,
      shipping:
        r.deliveryMode === null
          ? {}
          : {
              delivery_mode: r.deliveryMode,
              logistics_type: r.logisticsType,
              finish_shipping: r.finishCount > 0,
              finish_shipping_count: r.finishCount,
              goods_desc: '',
              shipping_list: r.packages,
            },
    }),
  };
}
