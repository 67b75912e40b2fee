// 我的订单: the shopper's orders, newest first, each with its state, amount and time. A pending order
// shows how long is left to pay and offers 去支付, which opens its result page with Retry.
import { Button, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useCallback, useEffect, useState } from 'react';
import ErrorNote from '../../components/ErrorNote';
import { describeError } from '../../services/errors';
import { formatYuan } from '../../services/money';
import { listOrders, type OrderView } from '../../services/orders';
import { refundSummary } from '../../services/refunds';
import { countdown, formatTime } from '../../services/time';
import './index.css';

const STATUS: Record<OrderView['status'], string> = { PENDING: '待支付', PAID: '已支付', CLOSED: '已关闭' };

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

  useEffect(() => {
    void load();
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [load]);

  const pay = (o: OrderView) => void Taro.navigateTo({ url: `/pages/result/index?id=${o.id}&outcome=cancel` });

  if (!orders) {
    return (
      <View className='page orders'>
        {error ? (
          <>
            <ErrorNote message={error} />
            <Button className='btn-primary' type='primary' onClick={() => void load()}>
              重新加载
            </Button>
          </>
        ) : (
          <Text className='muted'>正在加载订单…</Text>
        )}
      </View>
    );
  }
  if (orders.length === 0) {
    return (
      <View className='page orders orders--empty'>
        <Text className='muted'>还没有订单</Text>
        <Button className='btn-primary' type='primary' onClick={() => void Taro.reLaunch({ url: '/pages/checkout/index' })}>
          去逛逛
        </Button>
      </View>
    );
  }
  return (
    <View className='page orders'>
      {orders.map((o) => {
        const left = o.status === 'PENDING' ? countdown(o.payDeadline, now) : null;
        const refund = refundSummary(o);
        return (
          <View className='order-row' key={o.id} data-order={o.id}>
            <View className='order-row__top'>
              <Text className='order-row__desc'>{o.description}</Text>
              <Text className={`order-row__status order-row__status--${o.status.toLowerCase()}`}>{left === null && o.status === 'PENDING' ? '已超时' : STATUS[o.status]}</Text>
            </View>
            <View className='order-row__bottom'>
              <Text className='muted'>{formatTime(o.createdAt)}</Text>
              <Text className='order-row__amount'>{formatYuan(o.total)}</Text>
            </View>
            {refund ? <Text className='order-row__refund'>{refund}</Text> : null}
            {left ? (
              <View className='order-row__pay'>
                <Text className='muted'>剩余 {left} 支付</Text>
                <Button className='btn-primary order-row__btn' type='primary' size='mini' aria-label={`去支付 ${o.description}`} onClick={() => pay(o)}>
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
