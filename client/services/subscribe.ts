// Subscribe messages (订阅消息): the templates are fetched ahead of time (never on the tap's way: WeChat allows
// the request only in a tap or the payment callback, and nothing may be awaited in between), asked for once per
// order from the payment callback, and what the shopper accepted is told to the server. A refusal, a ban or a
// failure changes nothing else, and the order is never asked again.
import Taro from '@tarojs/taro';
import { request } from './http';

export type MessageKind = 'paid' | 'shipped' | 'refunded';
const ASKED_KEY = 'checkout.subscribeAsked';

let templates: Partial<Record<MessageKind, string>> | null = null;

/** Fetches the configured templates (call on page load; the pay tap then needs nothing from the network). */
export async function loadTemplates(): Promise<void> {
  if (templates) return;
  try {
    templates = (await request<{ templates: Partial<Record<MessageKind, string>> }>('GET', '/api/subscribe-templates', { auth: false }))
      .templates;
  } catch {
    templates = null; // no templates: nothing is asked
  }
}

/** The template ids to ask for (of `kinds`, default all) for this order, once per order; null when there is nothing to ask. */
export function subscribeRequestFor(
  orderId: string,
  kinds: readonly MessageKind[] = ['paid', 'shipped', 'refunded'],
): { tmplIds: string[] } | null {
  const ids = kinds.map((k) => templates?.[k]).filter((x): x is string => Boolean(x));
  if (ids.length === 0) return null;
  const asked = (Taro.getStorageSync(ASKED_KEY) as string[] | '') || [];
  if (asked.includes(orderId)) return null;
  Taro.setStorageSync(ASKED_KEY, [...asked, orderId].slice(-50));
  return { tmplIds: ids };
}

/** Tells the server which kinds the shopper accepted (`accept…` answers; reject, ban and filter are not). */
export async function reportSubscriptions(orderId: string, answers: Record<string, string>): Promise<void> {
  const accepted = (Object.entries(templates ?? {}) as [MessageKind, string][])
    .filter(([, id]) => String(answers[id] ?? '').startsWith('accept'))
    .map(([kind]) => kind);
  if (accepted.length === 0) return;
  await request('POST', `/api/orders/${orderId}/subscriptions`, { body: { accepted } }).catch(() => undefined);
}
