// WeChat Pay's bill format (交易账单), read as a stream: a header row of column names, detail rows whose
// every field starts with a backtick, then a summary header and a summary row. Amounts are yuan strings,
// read into integer units exactly (no floating point). Columns are found by name, not position: the ALL,
// SUCCESS and REFUND bills differ, and so do merchants' format generations.
// Facts: ../shared/wechat/bills.md §6. Written by hand here; the sandbox writes the same format.

export class BillFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BillFormatError';
  }
}

/** Yuan with up to five decimals (fees have five), as an integer number of 1/100,000 yuan (1/1,000 fen). */
export function yuanToMicro(text: string): number {
  const m = /^(-?)(\d{1,12})(?:\.(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new BillFormatError(`not an amount in yuan: ${JSON.stringify(text.slice(0, 40))}`);
  const units = Number(m[2]) * 100_000 + Number((m[3] ?? '').padEnd(5, '0'));
  return m[1] ? -units : units;
}

/** Yuan with at most two decimals, as integer fen: an amount that is not whole fen is refused. */
export function yuanToFen(text: string): number {
  const micro = yuanToMicro(text);
  if (micro % 1000 !== 0) throw new BillFormatError(`amount ${text} is not a whole number of fen`);
  return micro / 1000;
}

/** Fen with two decimals, as the bill prints amounts. */
export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const a = Math.abs(fen);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** 1/1,000 fen with five decimals of yuan, as the bill prints fees. */
export function microToYuan(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const a = Math.abs(micro);
  return `${sign}${Math.floor(a / 100_000)}.${String(a % 100_000).padStart(5, '0')}`;
}

/** Half away from zero, to whole fen: how a total of five-decimal fees is shown in fen. */
export const microToFen = (micro: number): number => Math.sign(micro) * Math.round(Math.abs(micro) / 1000);

export interface BillPaymentRow {
  kind: 'PAYMENT';
  /** 交易时间, Beijing time. */
  time: string;
  transactionId: string;
  outTradeNo: string;
  /** 订单金额: what the shopper paid, coupons included, in fen. */
  amount: number;
  /** 应结订单金额: what settles to the merchant, in fen. */
  settlement: number;
  /** 手续费, in 1/1,000 fen. */
  feeMicro: number;
  /** 费率, as printed (e.g. `0.60%`). */
  rate: string;
  /** SUCCESS, or REVOKED for a payment revoked after success. */
  state: string;
}

export interface BillRefundRow {
  kind: 'REFUND';
  time: string;
  transactionId: string;
  outTradeNo: string;
  refundId: string;
  outRefundNo: string;
  /** 申请退款金额, in fen. */
  requested: number;
  /** 退款金额: settled, in fen. */
  refunded: number;
  /** 退款状态 when the refund was started (SUCCESS, PROCESSING, …): never updated afterwards. */
  status: string;
  feeMicro: number;
}

export type BillRow = BillPaymentRow | BillRefundRow;

/** The summary row, by the names both layouts use; a column the bill does not have is null. */
export interface BillSummary {
  count: number;
  /** 应结订单总金额, fen. */
  settlement: number | null;
  /** 退款总金额, fen. */
  refunds: number | null;
  /** 手续费总金额, in 1/1,000 fen. */
  feesMicro: number | null;
  /** 订单总金额, fen. */
  orders: number | null;
}

const LEGACY_MARKERS = ['总金额', '企业红包金额', '代金券或立减优惠金额'];

/** Reads one bill's lines. Feed it lines in order (`line`), then call `end()` for the summary. */
export class BillReader {
  private columns: Map<string, number> | null = null;
  private summaryHeader: string[] | null = null;
  private summary: BillSummary | null = null;
  private rows = 0;
  private settlementSum = 0;
  private refundSum = 0;
  private lineNo = 0;

  /** One line, without its line end; returns the row it holds, or null for a header or blank line. */
  line(raw: string): BillRow | null {
    this.lineNo += 1;
    const text = this.lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') return null;
    if (this.summary) throw new BillFormatError(`line ${this.lineNo}: text after the summary row`);
    if (!this.columns) {
      const names = text.split(',').map((n) => n.trim());
      if (names.some((n) => LEGACY_MARKERS.includes(n)) && !names.includes('应结订单金额') && !names.includes('收支类型')) {
        throw new BillFormatError('this merchant still has the legacy bill format (总金额 …); only the current format is read');
      }
      this.columns = new Map(names.map((n, i) => [n, i]));
      for (const need of ['交易时间', '微信订单号', '商户订单号', '交易状态', '手续费']) {
        if (!this.columns.has(need)) throw new BillFormatError(`the header has no ${need} column: not a trade bill`);
      }
      return null;
    }
    if (!text.startsWith('`')) {
      if (this.summaryHeader) throw new BillFormatError(`line ${this.lineNo}: a second header row`);
      this.summaryHeader = text.split(',').map((n) => n.trim());
      return null;
    }
    const fields = text.slice(1).split(',`');
    if (this.summaryHeader) {
      this.summary = this.readSummary(fields);
      return null;
    }
    return this.readRow(fields);
  }

  private readRow(fields: string[]): BillRow {
    const cols = this.columns!;
    if (fields.length !== cols.size) {
      throw new BillFormatError(`line ${this.lineNo}: ${fields.length} fields where the header names ${cols.size}`);
    }
    const get = (name: string): string => {
      const i = cols.get(name);
      return i === undefined ? '' : fields[i]!.trim();
    };
    const money = (name: string): number => {
      const v = get(name);
      return v === '' ? 0 : yuanToFen(v);
    };
    const state = get('交易状态');
    this.rows += 1;
    const base = { time: get('交易时间'), transactionId: get('微信订单号'), outTradeNo: get('商户订单号') };
    const feeMicro = get('手续费') === '' ? 0 : yuanToMicro(get('手续费'));
    if (state === 'REFUND') {
      const refunded = money('退款金额');
      this.refundSum += refunded;
      return {
        kind: 'REFUND',
        ...base,
        refundId: get('微信退款单号'),
        outRefundNo: get('商户退款单号'),
        requested: cols.has('申请退款金额') ? money('申请退款金额') : refunded,
        refunded,
        status: get('退款状态'),
        feeMicro,
      };
    }
    const settlement = money('应结订单金额');
    this.settlementSum += settlement;
    return {
      kind: 'PAYMENT',
      ...base,
      amount: cols.has('订单金额') ? money('订单金额') : settlement,
      settlement,
      feeMicro,
      rate: get('费率'),
      state,
    };
  }

  private readSummary(fields: string[]): BillSummary {
    const names = this.summaryHeader!;
    if (fields.length !== names.length) throw new BillFormatError(`summary: ${fields.length} fields for ${names.length} names`);
    const get = (name: string): string | null => {
      const i = names.indexOf(name);
      return i < 0 ? null : fields[i]!.trim();
    };
    const fen = (name: string) => {
      const v = get(name);
      return v === null ? null : yuanToFen(v);
    };
    const countText = get('总交易单数');
    if (countText === null) throw new BillFormatError('summary: no 总交易单数');
    // Counts are printed as decimals (`45.0`).
    const count = yuanToMicro(countText);
    if (count % 100_000 !== 0) throw new BillFormatError(`summary: 总交易单数 ${countText} is not a whole number`);
    const fees = get('手续费总金额');
    return {
      count: count / 100_000,
      settlement: fen('应结订单总金额'),
      refunds: fen('退款总金额'),
      feesMicro: fees === null ? null : yuanToMicro(fees),
      orders: fen('订单总金额'),
    };
  }

  /** After the last line: the summary, checked against the rows (a truncated file fails here). */
  end(): BillSummary {
    if (!this.columns) throw new BillFormatError('empty bill: no header row');
    const s = this.summary;
    if (!s) throw new BillFormatError('the bill ends before its summary row: truncated?');
    if (s.count !== this.rows) throw new BillFormatError(`the summary counts ${s.count} rows, the bill has ${this.rows}`);
    if (s.settlement !== null && s.settlement !== this.settlementSum) {
      throw new BillFormatError(`the summary's 应结订单总金额 is ${s.settlement} fen, the rows add up to ${this.settlementSum}`);
    }
    if (s.refunds !== null && s.refunds !== this.refundSum) {
      throw new BillFormatError(`the summary's 退款总金额 is ${s.refunds} fen, the rows add up to ${this.refundSum}`);
    }
    return s;
  }
}

/** Splits decoded text chunks into lines (LF or CRLF), keeping at most one partial line. */
export async function* linesOf(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    rest += chunk;
    let at = rest.indexOf('\n');
    let from = 0;
    while (at >= 0) {
      const end = at > from && rest.charCodeAt(at - 1) === 13 ? at - 1 : at;
      yield rest.slice(from, end);
      from = at + 1;
      at = rest.indexOf('\n', from);
    }
    rest = rest.slice(from);
  }
  if (rest) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

// ——— Writing (the sandbox's books) ———

export const TRADE_BILL_COLUMNS = {
  ALL: '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
  SUCCESS:
    '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注',
  REFUND:
    '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
} as const;

export const TRADE_BILL_SUMMARY = {
  ALL: '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
  SUCCESS: '总交易单数,应结订单总金额,手续费总金额,订单总金额',
  REFUND: '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
} as const;

/** One row's fields by column name (missing names print empty), backtick-prefixed, comma-joined. */
export function billLine(columns: string, values: Record<string, string>): string {
  return columns
    .split(',')
    .map((c) => `\`${values[c] ?? ''}`)
    .join(',');
}
