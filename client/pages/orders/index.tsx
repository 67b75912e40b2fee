// 我的订单: the shopper's orders, newest first, each with its state, amount and time. A pending order
// shows how long is left to pay and offers 去支付, which opens its result page with Retry. A paid
// order shows 待发货 / 已发货 (carrier and tracking number, copyable) / 已完成; a shipped express order
// offers 确认收货, and the page asks the server (which asks WeChat) when the shopper comes back.
import { Button, Text, View } from '@tarojs/components';
import Taro, { useDidShow } from '@tarojs/taro';
import { useCallback, useEffect, useRef, useState } from 'react';
import ErrorNote from '../../components/ErrorNote';
import { describeError } from '../../services/errors';
import { formatYuan } from '../../services/money';
import { checkReceipt, listOrders, type OrderView } from '../../services/orders';
import { takeReceiptReturn } from '../../services/receipt-return';
import { wxConfirmReceipt, wxRequestSubscribe } from '../../services/wx';
import { loadTemplates, reportSubscriptions, subscribeRequestFor } from '../../services/subscribe';
import { refundSummary } from '../../services/refunds';
import { countdown, formatTime } from '../../services/time';
import './index.css';

const STATUS: Record<OrderView['status'], string> = { PENDING: '待支付', PAID: '已支付', CLOSED: '已关闭' };
const SHIPMENT: Record<NonNullable<OrderView['shipment']>['status'], string> = {
  SHIPPED: '已发货',
  RECEIVED: '已收货',
  COMPLETED: '已完成',
};

/** What the status corner says: payment first, then fulfilment once paid. */
function statusOf(o: OrderView, left: string | null): { text: string; tone: string } {
  if (o.status === 'PENDING') return left === null ? { text: '已超时', tone: 'closed' } : { text: STATUS.PENDING, tone: 'pending' };
  if (o.status === 'CLOSED') return { text: STATUS.CLOSED, tone: 'closed' };
  if (o.refundedTotal >= o.total) return { text: '已退款', tone: 'closed' };
  if (!o.shipment) return { text: '待发货', tone: 'pending' };
  return { text: SHIPMENT[o.shipment.status], tone: o.shipment.status === 'SHIPPED' ? 'shipped' : 'paid' };
}

export default function OrdersPage() {
  const [orders, setOrders] = useState<OrderView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    setError(null);
    try {
      setOrders(await listOrders());
    } catch (err) {
      setError(`订单加载失败：${describeError(err)}`);
    }
  }, []);

  // The subscribe-message templates, fetched now: 确认收货's tap asks without waiting on the network.
  useEffect(() => {
    void loadTemplates();
  }, []);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  // Back from WeChat's confirm-receipt component (or any return to the page): the server asks WeChat.
  const awaitingReceipt = useRef<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  useDidShow(() => {
    const back = takeReceiptReturn();
    const id = awaitingReceipt.current ?? orders?.find((o) => back?.merchantTradeNo && o.outTradeNo === back.merchantTradeNo)?.id ?? null;
    awaitingReceipt.current = null;
    if (id)
      void checkReceipt(id)
        .catch(() => undefined)
        .then(load);
    else void load();
  });

  const confirmReceipt = async (o: OrderView) => {
    if (confirming || !o.shipment) return;
    // 确认收货 is a tap: the one moment besides the payment to ask for the refund notice, if this order was not asked.
    const ask = subscribeRequestFor(o.id, ['refunded']);
    const asking = ask ? wxRequestSubscribe(ask.tmplIds) : null;
    setConfirming(o.id);
    setError(null);
    try {
      if (asking) void reportSubscriptions(o.id, await asking);
      const outcome = await wxConfirmReceipt({ merchantId: o.shipment.merchantId, outTradeNo: o.outTradeNo, description: o.description });
      if (outcome === 'opened') {
        awaitingReceipt.current = o.id;
        return;
      }
      if (outcome === 'fail') setError('确认收货未成功：请确认是下单时的微信账号，稍后再试');
      if (outcome === 'success') await checkReceipt(o.id);
      await load();
    } catch (err) {
      setError(`确认收货未成功：${describeError(err)}`);
    } finally {
      setConfirming(null);
    }
  };

  const copy = (trackingNo: string) =>
    void Taro.setClipboardData({ data: trackingNo })
      .then(() => Taro.showToast({ title: '运单号已复制', icon: 'none' }))
      .catch(() => undefined);

  const pay = (o: OrderView) => void Taro.navigateTo({ url: `/pages/result/index?id=${o.id}&outcome=cancel` });

  if (!orders) {
    return (
      <View className="page orders">
        {error ? (
          <>
            <ErrorNote message={error} />
            <Button className="btn-primary" type="primary" onClick={() => void load()}>
              重新加载
            </Button>
          </>
        ) : (
          <Text className="muted">正在加载订单…</Text>
        )}
      </View>
    );
  }
  if (orders.length === 0) {
    return (
      <View className="page orders orders--empty">
        <Text className="muted">还没有订单</Text>
        <Button className="btn-primary" type="primary" onClick={() => void Taro.reLaunch({ url: '/pages/checkout/index' })}>
          去逛逛
        </Button>
      </View>
    );
  }
  return (
    <View className="page orders">
      <ErrorNote message={error} />
      {orders.map((o) => {
        const left = o.status === 'PENDING' ? countdown(o.payDeadline, now) : null;
        const refund = refundSummary(o);
        const status = statusOf(o, left);
        const shipment = o.status === 'PAID' ? o.shipment : null;
        return (
          <View className="order-row" key={o.id} data-order={o.id}>
            <View className="order-row__top">
              <Text className="order-row__desc">{o.description}</Text>
              <Text className={`order-row__status order-row__status--${status.tone}`}>{status.text}</Text>
            </View>
            <View className="order-row__bottom">
              <Text className="muted">{formatTime(o.createdAt)}</Text>
              <Text className="order-row__amount">{formatYuan(o.total)}</Text>
            </View>
            {refund ? <Text className="order-row__refund">{refund}</Text> : null}
            {shipment
              ? shipment.packages.map((p) =>
                  p.trackingNo ? (
                    <View className="order-row__parcel" key={p.trackingNo}>
                      <Text className="muted">
                        {p.carrierName ?? p.carrier} {p.trackingNo}
                      </Text>
                      <Button
                        className="order-row__copy"
                        size="mini"
                        onClick={() => copy(p.trackingNo!)}
                        aria-label={`复制运单号 ${p.trackingNo}`}
                      >
                        复制
                      </Button>
                    </View>
                  ) : null,
                )
              : null}
            {shipment?.status === 'SHIPPED' && shipment.logisticsType === 'express' && o.refundedTotal < o.total ? (
              <View className="order-row__pay">
                <Text className="muted">收到商品后请确认收货</Text>
                <Button
                  className={`btn-primary order-row__btn${confirming === o.id ? ' btn-primary--disabled' : ''}`}
                  type="primary"
                  size="mini"
                  disabled={confirming === o.id}
                  aria-label={`确认收货 ${o.description}`}
                  onClick={() => void confirmReceipt(o)}
                >
                  确认收货
                </Button>
              </View>
            ) : null}
            {left ? (
              <View className="order-row__pay">
                <Text className="muted">剩余 {left} 支付</Text>
                <Button
                  className="btn-primary order-row__btn"
                  type="primary"
                  size="mini"
                  aria-label={`去支付 ${o.description}`}
                  onClick={() => pay(o)}
                >
                  去支付
                </Button>
              </View>
            ) : null}
          </View>
        );
      })}
    </View>
  );
}
