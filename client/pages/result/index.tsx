// The result page believes the server, never only the payment sheet's callback. While the order
// is pending after "ok" it polls briefly; when not paid it offers Retry (same order, fresh fields).
import { Button, Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useCallback, useEffect, useRef, useState } from 'react';
import ErrorNote from '../../components/ErrorNote';
import Spinner from '../../components/Spinner';
import { describeError } from '../../services/errors';
import { formatYuan } from '../../services/money';
import { getOrder, retryPayment, type OrderView } from '../../services/orders';
import { clearCartIfPaid } from '../../services/cart';
import { refundSummary } from '../../services/refunds';
import { shipmentSummary } from '../../services/shipment';
import { formatTime } from '../../services/time';
import { wxRequestPayment, type PaymentOutcome } from '../../services/wx';
import { loadTemplates, reportSubscriptions, subscribeRequestFor } from '../../services/subscribe';
import { parseOutcome, resultView } from './state';
import './index.css';

/** How long to keep asking after the sheet said "ok" before saying "still confirming". */
export const CONFIRM_POLL_MS = 10_000;
const POLL_EVERY_MS = 800;

const backToShop = () => void Taro.reLaunch({ url: '/pages/checkout/index' });

export default function ResultPage() {
  const { params } = useRouter();
  const orderId = params.id ?? '';
  const [sheet, setSheet] = useState<PaymentOutcome>(() => parseOutcome(params.outcome, params.message));
  const [order, setOrder] = useState<OrderView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [polling, setPolling] = useState(false);
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState<string | null>(null);
  const generation = useRef(0);

  /** Reads the order; after "ok", keeps reading until PAID or the deadline. */
  const check = useCallback(
    async (after: PaymentOutcome) => {
      const gen = ++generation.current;
      const deadline = Date.now() + (after.outcome === 'ok' ? CONFIRM_POLL_MS : 0);
      setLoadError(null);
      setPolling(after.outcome === 'ok');
      try {
        for (;;) {
          const o = await getOrder(orderId);
          if (gen !== generation.current) return;
          setOrder(o);
          if (o.status === 'PAID') clearCartIfPaid(o.id); // the cart it was made from is done
          if (o.status !== 'PENDING' || Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, POLL_EVERY_MS));
        }
      } catch (err) {
        if (gen === generation.current) setLoadError(`无法获取订单状态：${describeError(err)}`);
      } finally {
        if (gen === generation.current) setPolling(false);
      }
    },
    [orderId],
  );

  // The subscribe-message templates, for a Retry's payment callback.
  useEffect(() => {
    void loadTemplates();
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: on arrival only (the sheet's answer is read once); Retry calls check itself
  useEffect(() => {
    void check(sheet);
    return () => {
      generation.current += 1;
    };
  }, [check]);

  const retry = async () => {
    if (retrying) return;
    setRetrying(true);
    setRetryError(null);
    try {
      const { order: o, payment } = await retryPayment(orderId);
      setOrder(o);
      const outcome = await wxRequestPayment(payment, { total: o.total, description: o.description, subscribe: subscribeRequestFor(o.id) });
      if (outcome.outcome === 'ok' && outcome.subscriptions) void reportSubscriptions(o.id, outcome.subscriptions);
      setSheet(outcome);
      await check(outcome);
    } catch (err) {
      setRetryError(describeError(err));
      await check({ outcome: 'cancel' }); // the order may have been paid or closed meanwhile
    } finally {
      setRetrying(false);
    }
  };

  const view = resultView(order, sheet, polling, loadError);
  const amount = order ? formatYuan(order.total) : '';
  const refund = order ? refundSummary(order) : null;
  const shipping = order ? shipmentSummary(order) : null;

  const layout = (
    icon: 'ok' | 'wait' | 'warn' | 'closed',
    tone: 'ok' | 'wait' | 'warn',
    title: string,
    text: string,
    primary: JSX.Element | null,
    secondary: JSX.Element | null,
  ) => (
    <View className={`page result result--${view.kind}`}>
      <View className="result__body">
        <View className={`result__icon result__icon--${tone} result__icon--${icon}`} aria-hidden />
        <Text className="result__title">{title}</Text>
        {amount ? <Text className="result__amount">{amount}</Text> : null}
        {refund ? <Text className="result__refund">{refund}</Text> : null}
        {shipping ? <Text className="muted result__shipping">{shipping}</Text> : null}
        {order?.complaint === 'OPEN' ? <Text className="result__complaint">投诉处理中：商家正在处理你的投诉，请留意微信通知</Text> : null}
        {text ? <Text className="muted result__text">{text}</Text> : null}
        {order ? (
          <View className="result__meta">
            <Text className="muted">订单号 {order.outTradeNo}</Text>
            <Text className="muted">下单时间 {formatTime(order.createdAt)}</Text>
            <Text className="result__link" onClick={() => void Taro.navigateTo({ url: '/pages/orders/index' })}>
              查看订单 ›
            </Text>
          </View>
        ) : null}
      </View>
      <View className="result__actions">
        {/* A closed order's page already says what happened: the Retry that found it out adds nothing. */}
        <ErrorNote message={view.kind === 'closed' ? null : retryError} />
        {primary}
        {secondary}
      </View>
    </View>
  );

  const retryButton = (
    <Button
      className={`btn-primary${retrying ? ' btn-primary--disabled' : ''}`}
      type="primary"
      disabled={retrying}
      aria-busy={retrying}
      onClick={() => void retry()}
    >
      {retrying ? <Spinner /> : null}
      {retrying ? '正在发起支付…' : '重新支付'}
    </Button>
  );
  const shopButton = (primary: boolean) => (
    <Button className={primary ? 'btn-primary' : 'btn-secondary'} type={primary ? 'primary' : 'default'} onClick={backToShop}>
      返回商店
    </Button>
  );

  switch (view.kind) {
    case 'loading':
    case 'confirming':
      return layout('wait', 'wait', '正在确认支付结果', '请稍候，正在向微信支付查询', null, null);
    case 'paid':
      return layout('ok', 'ok', '支付成功', order?.description ?? '', shopButton(true), null);
    case 'unconfirmed':
      return layout(
        'wait',
        'wait',
        '支付结果确认中',
        '如已扣款，订单会自动更新，请勿重复支付',
        <Button className="btn-primary" type="primary" onClick={() => void check({ outcome: 'ok' })}>
          刷新结果
        </Button>,
        shopButton(false),
      );
    case 'cancelled':
      return layout('warn', 'warn', '支付已取消', '订单已为你保留，可以重新支付', retryButton, shopButton(false));
    case 'failed':
      return layout(
        'warn',
        'warn',
        '支付未完成',
        `${view.reason ? `${view.reason}。` : ''}订单已为你保留，可以重新支付`,
        retryButton,
        shopButton(false),
      );
    case 'closed':
      return layout(
        'closed',
        'warn',
        '订单已关闭',
        order?.refundDue ? '订单关闭后才收到你的付款，款项将原路退回' : '已超过支付时间，如需购买请重新下单',
        shopButton(true),
        null,
      );
    case 'error':
      return layout(
        'warn',
        'warn',
        '暂时无法确认支付结果',
        view.message,
        <Button className="btn-primary" type="primary" onClick={() => void check(sheet)}>
          重试
        </Button>,
        shopButton(false),
      );
  }
}
