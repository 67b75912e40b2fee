// What went wrong and what to do next, in the shopper's words.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the server named, when it named one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const COPY: Record<string, string> = {
  NETWORK: '网络连接失败，请检查网络后重试',
  WECHAT_CODE_INVALID: '登录凭证已失效，请重新登录',
  WECHAT_BUSY: '微信登录繁忙，请稍后重试',
  WECHAT_UNREACHABLE: '暂时连不上微信，请稍后重试',
  WECHATPAY_BUSY: '微信支付繁忙，订单已保存，请稍后重试',
  WECHATPAY_UNREACHABLE: '暂时连不上微信支付，订单已保存，请稍后重试',
  WECHATPAY_REJECTED: '微信支付暂时无法受理该订单，请稍后重试',
  RATE_LIMITED: '操作太频繁了，请稍等一分钟再试',
  UNKNOWN_SKU: '商品信息有变化，请返回刷新后重新下单',
  VALIDATION_FAILED: '订单信息有误，请返回刷新后重新下单',
  ORDER_CLOSED: '订单已关闭，请重新下单',
  ORDER_ALREADY_PAID: '这笔订单已支付，无需重复付款',
  NOT_FOUND: '没有找到这笔订单',
  UNAUTHENTICATED: '登录已过期，请重新登录',
  STORE_UNAVAILABLE: '服务暂时不可用，请稍后重试',
};

/** A refused field, in the shopper's words: the server's real reason, never its English. */
const FIELD_COPY: [RegExp, string][] = [
  [/^items\[\d+\]\.quantity$/, '商品数量超出可购买的范围，请调整数量后重试'],
  [/^items\[\d+\]\.sku$/, '商品信息有变化，请返回刷新后重新下单'],
  [/^items$/, '购物车是空的，请先选择商品'],
];

export function describeError(err: unknown): string {
  if (err instanceof ApiError && err.code === 'VALIDATION_FAILED' && err.field) {
    const copy = FIELD_COPY.find(([re]) => re.test(err.field!));
    if (copy) return copy[1];
  }
  if (err instanceof ApiError) return COPY[err.code] ?? (err.status >= 500 ? '服务暂时不可用，请稍后重试' : '出了点问题，请稍后重试');
  return '出了点问题，请稍后重试';
}
