// The sandbox mini program's three one-time subscribe-message templates (written into sandbox.env, served by
// subscribe.ts). Kept apart so keys.ts can name them without importing the rest of the sandbox.
import crypto from 'node:crypto';

export interface SandboxTemplate {
  id: string;
  name: 'PAID' | 'SHIPPED' | 'REFUNDED';
  title: string;
  /** Keyword names in display order, each `<type><n>`, with its label. */
  keywords: { key: string; label: string }[];
}

/** The three templates, their ids derived from the appid (stable across restarts, 43 characters as WeChat's). */
export function sandboxTemplates(appid: string): SandboxTemplate[] {
  const id = (name: string) => crypto.createHash('sha256').update(`${appid}:${name}`).digest('base64url').slice(0, 43);
  return [
    {
      id: id('PAID'),
      name: 'PAID',
      title: '支付成功通知',
      keywords: [
        { key: 'character_string1', label: '订单号' },
        { key: 'amount2', label: '支付金额' },
        { key: 'thing3', label: '商品名称' },
        { key: 'time4', label: '支付时间' },
      ],
    },
    {
      id: id('SHIPPED'),
      name: 'SHIPPED',
      title: '订单发货通知',
      keywords: [
        { key: 'character_string1', label: '订单号' },
        { key: 'thing2', label: '快递公司' },
        { key: 'character_string3', label: '快递单号' },
        { key: 'thing4', label: '商品名称' },
      ],
    },
    {
      id: id('REFUNDED'),
      name: 'REFUNDED',
      title: '退款成功通知',
      keywords: [
        { key: 'character_string1', label: '订单号' },
        { key: 'amount2', label: '退款金额' },
        { key: 'thing3', label: '退款说明' },
        { key: 'time4', label: '退款时间' },
      ],
    },
  ];
}
