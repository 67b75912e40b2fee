// The cart outlives the page: it is kept in storage with the Idempotency-Key of the order made from
// it, so going back after a cancelled payment shows the same cart, and paying again resumes the same
// order instead of making a second one. It is cleared once that order is paid.
import Taro from '@tarojs/taro';

const KEY = 'checkout.cart';

export interface SavedCart {
  quantities: Record<string, number>;
  /** The key of the order made from exactly this cart, if one was made. */
  order?: { cart: string; key: string; id?: string };
}

export function loadCart(): SavedCart {
  const saved = Taro.getStorageSync(KEY) as SavedCart | '';
  return saved && typeof saved === 'object' ? saved : { quantities: {} };
}

export function saveCart(cart: SavedCart): void {
  Taro.setStorageSync(KEY, cart);
}

/** Clears the cart when the order made from it is the one that was paid. */
export function clearCartIfPaid(orderId: string): void {
  if (loadCart().order?.id === orderId) Taro.removeStorageSync(KEY);
}
