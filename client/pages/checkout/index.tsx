// The catalog with quantities, the total, and one primary action: pay. The server prices the
// order; the total shown here is only what the shopper sees before paying.
import { Button, Image, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import ErrorNote from '../../components/ErrorNote';
import Spinner from '../../components/Spinner';
import Stepper, { stepQuantity } from '../../components/Stepper';
import { ensureLoggedIn } from '../../services/auth';
import { loadCart, saveCart } from '../../services/cart';
import { ApiError, describeError } from '../../services/errors';
import { cartTotal, formatYuan } from '../../services/money';
import { productImage } from '../../services/product-images';
import { createOrder, listProducts, newIdempotencyKey, type Product } from '../../services/orders';
import { wxRequestPayment } from '../../services/wx';
import { loadTemplates, reportSubscriptions, subscribeRequestFor } from '../../services/subscribe';
import './index.css';

export default function CheckoutPage() {
  const [products, setProducts] = useState<Product[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [quantities, setQuantities] = useState<Record<string, number>>(() => loadCart().quantities);
  const [paying, setPaying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const payingRef = useRef(false);
  // One key per cart, kept with the cart: a tap after a failure or a cancelled payment resumes the same order.
  const keyRef = useRef<{ cart: string; key: string; id?: string } | null>(loadCart().order ?? null);

  useEffect(() => {
    saveCart({ quantities, order: keyRef.current ?? undefined });
  }, [quantities]);

  // The subscribe-message templates, fetched now: the pay tap must not wait on the network to ask for them.
  useEffect(() => {
    void loadTemplates();
  }, []);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      setProducts(await listProducts());
    } catch (err) {
      setLoadError(`商品加载失败：${describeError(err)}`);
    }
  }, []);

  useEffect(() => {
    void load();
    // Silent login while the shop shows; only a failure takes the shopper to the login page, which says why.
    ensureLoggedIn().catch(() => void Taro.redirectTo({ url: '/pages/login/index' }));
  }, [load]);

  const items = useMemo(
    () => (products ?? []).filter((p) => (quantities[p.sku] ?? 0) > 0).map((p) => ({ sku: p.sku, quantity: quantities[p.sku]! })),
    [products, quantities],
  );
  const total = useMemo(
    () => cartTotal((products ?? []).map((p) => ({ price: p.price, quantity: quantities[p.sku] ?? 0 }))),
    [products, quantities],
  );

  const pay = async () => {
    if (payingRef.current || items.length === 0) return; // a double tap makes one order
    payingRef.current = true;
    setPaying(true);
    setError(null);
    const cart = JSON.stringify(items);
    if (keyRef.current?.cart !== cart) keyRef.current = { cart, key: newIdempotencyKey() };
    try {
      let created: Awaited<ReturnType<typeof createOrder>>;
      try {
        created = await createOrder(items, keyRef.current.key);
      } catch (err) {
        // The order made from this cart closed (its time to pay passed): this cart makes a new one.
        if (!(err instanceof ApiError && err.code === 'ORDER_CLOSED')) throw err;
        keyRef.current = { cart, key: newIdempotencyKey() };
        created = await createOrder(items, keyRef.current.key);
      }
      const { order, payment } = created;
      // The cart stays until this order is paid (the result page clears it then).
      keyRef.current = { ...keyRef.current, id: order.id };
      saveCart({ quantities, order: keyRef.current });
      const result = await wxRequestPayment(payment, {
        total: order.total,
        description: order.description,
        subscribe: subscribeRequestFor(order.id),
      });
      if (result.outcome === 'ok' && result.subscriptions) void reportSubscriptions(order.id, result.subscriptions);
      const message = result.outcome === 'fail' ? result.message : '';
      await Taro.navigateTo({ url: `/pages/result/index?id=${order.id}&outcome=${result.outcome}&message=${encodeURIComponent(message)}` });
    } catch (err) {
      setError(`下单失败：${describeError(err)}`);
    } finally {
      payingRef.current = false;
      setPaying(false);
    }
  };

  if (!products) {
    return (
      <View className="page checkout">
        {loadError ? (
          <>
            <ErrorNote message={loadError} />
            <Button className="btn-primary" type="primary" onClick={() => void load()}>
              重新加载
            </Button>
          </>
        ) : (
          <View className="skeleton" aria-busy>
            <Text className="visually-hidden">正在加载商品…</Text>
            {[0, 1, 2, 3].map((i) => (
              <View className="skeleton__card" key={i}>
                <View className="skeleton__line skeleton__line--title" />
                <View className="skeleton__line" />
                <View className="skeleton__line skeleton__line--short" />
              </View>
            ))}
          </View>
        )}
      </View>
    );
  }

  return (
    <View className="page checkout">
      <View className="checkout__head">
        <Text className="checkout__orders" aria-label="我的订单" onClick={() => void Taro.navigateTo({ url: '/pages/orders/index' })}>
          我的订单 ›
        </Text>
      </View>
      <View className="checkout__list">
        {products.map((p) => (
          <View className="product" key={p.sku} data-sku={p.sku}>
            <Image className="product__image" src={productImage(p.sku)} mode="aspectFit" aria-hidden />
            <View className="product__info">
              <Text className="product__name">{p.name}</Text>
              <Text className="muted product__desc">{p.description}</Text>
              <Text className="product__price">{formatYuan(p.price)}</Text>
            </View>
            <Stepper
              label={p.name}
              value={quantities[p.sku] ?? 0}
              max={p.maxQuantity}
              disabled={paying}
              onStep={(d) => setQuantities((prev) => ({ ...prev, [p.sku]: stepQuantity(prev[p.sku] ?? 0, d, p.maxQuantity) }))}
            />
          </View>
        ))}
      </View>
      <View className="checkout__footer">
        <ErrorNote message={error} />
        <View className="checkout__total">
          <Text className="muted">合计</Text>
          <Text className="checkout__amount" aria-label="合计金额">
            {formatYuan(total)}
          </Text>
        </View>
        <Button
          className={`btn-primary checkout__pay${paying || items.length === 0 ? ' btn-primary--disabled' : ''}`}
          type="primary"
          disabled={paying || items.length === 0}
          aria-busy={paying}
          onClick={() => void pay()}
        >
          {paying ? <Spinner /> : null}
          {paying ? '正在发起支付…' : items.length === 0 ? '请选择商品' : `微信支付 ${formatYuan(total)}`}
        </Button>
      </View>
    </View>
  );
}
