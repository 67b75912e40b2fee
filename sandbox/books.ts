// The sandbox keeps books as WeChat Pay does: from its own payments and refunds it writes each day's
// trade bill (ALL, SUCCESS, REFUND) and fund-flow bill in WeChat's exact format (BOM, CRLF, header,
// backtick-prefixed rows, summary), with a fee rate, and serves them as v3 does (apply, then a signed
// download of an expiring link, SHA-1 of the uncompressed file, gzip on request) and as v2 does (CSV on
// success, XML on failure). A day's bill exists from 10:00 the next day, sandbox time. Switches make the
// books disagree with the merchant's, so every discrepancy can be produced end to end.
// Facts: ../shared/wechat/bills.md.
import crypto from 'node:crypto';
import { gzipSync } from 'node:zlib';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { billLine, fenToYuan, microToYuan, TRADE_BILL_COLUMNS, TRADE_BILL_SUMMARY } from '../server/src/wechatpay/bill';
import { beijingSpaced } from './v2-notify';
import { declaredSignType, v2Verify } from '../server/src/wechatpay/v2/sign';
import { buildV2Xml, parseV2Xml } from '../server/src/wechatpay/v2/xml';
import type { SandboxState } from './state';
import type { V3Answers } from './v3-answers';

export type TradeBillType = keyof typeof TRADE_BILL_COLUMNS;

/** How the books are made to disagree with the merchant's (POST /sandbox/books). */
export interface BookSwitches {
  /** Transactions (by transaction_id or out_trade_no) and refunds (by out_refund_no) left out of the bill. */
  omit: Set<string>;
  /** An amount (fen) printed instead of the true one, by transaction_id, out_trade_no or out_refund_no. */
  amounts: Map<string, number>;
  /** Payments and refunds only the bill has: the merchant never heard of them. */
  strangers: {
    kind: 'PAYMENT' | 'REFUND';
    transactionId: string;
    outTradeNo: string;
    outRefundNo: string;
    refundId: string;
    amount: number;
    at: number;
  }[];
}

export const newBookSwitches = (): BookSwitches => ({ omit: new Set(), amounts: new Map(), strangers: [] });

const BEIJING_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;
const beijingDate = (ms: number) => new Date(ms + BEIJING_MS).toISOString().slice(0, 10);
const digits = (n: number) => Array.from(crypto.randomBytes(n), (x) => x % 10).join('');
/** Start of a Beijing day (`YYYY-MM-DD`) in epoch ms. */
const dayStart = (date: string) => Date.parse(`${date}T00:00:00+08:00`);

/** A row's fee: the rate times the amount, rounded half up to the fen, printed with five decimals. */
const feeOf = (fen: number, rate: number) => Math.floor(fen * rate + 0.5) * 1000;

interface Row {
  at: number;
  kind: 'PAYMENT' | 'REFUND';
  values: Record<string, string>;
  settlement: number;
  refund: number;
  requested: number;
  orderAmount: number;
  feeMicro: number;
}

/** Every payment and refund of a Beijing day, switches applied, oldest first. */
function rowsOf(s: SandboxState, sw: BookSwitches, date: string): Row[] {
  const rate = s.controls.billFeeRate;
  const ratePrinted = `${(rate * 100).toFixed(2)}%`;
  const { appid, mchid } = s.keys;
  const rows: Row[] = [];
  const common = (at: number, transactionId: string, outTradeNo: string, openid: string, state: string) => ({
    交易时间: beijingSpaced(at),
    公众账号ID: appid,
    商户号: mchid,
    特约商户号: '0',
    设备号: '',
    微信订单号: transactionId,
    商户订单号: outTradeNo,
    用户标识: openid,
    交易类型: 'JSAPI',
    交易状态: state,
    付款银行: 'OTHERS',
    货币种类: 'CNY',
    代金券金额: '0.00',
    充值券退款金额: '0.00',
    费率: ratePrinted,
    费率备注: '',
  });
  const payment = (
    at: number,
    transactionId: string,
    outTradeNo: string,
    amount: number,
    openid: string,
    description: string,
    attach: string,
  ) => {
    if (sw.omit.has(transactionId) || sw.omit.has(outTradeNo)) return;
    const printed = sw.amounts.get(transactionId) ?? sw.amounts.get(outTradeNo) ?? amount;
    const feeMicro = feeOf(printed, rate);
    rows.push({
      at,
      kind: 'PAYMENT',
      settlement: printed,
      refund: 0,
      requested: 0,
      orderAmount: printed,
      feeMicro,
      values: {
        ...common(at, transactionId, outTradeNo, openid, 'SUCCESS'),
        应结订单金额: fenToYuan(printed),
        微信退款单号: '0',
        商户退款单号: '0',
        退款金额: '0.00',
        退款类型: '',
        退款状态: '',
        商品名称: description,
        商户数据包: attach,
        手续费: microToYuan(feeMicro),
        订单金额: fenToYuan(printed),
        申请退款金额: '0.00',
      },
    });
  };
  const refund = (
    at: number,
    r: {
      transactionId: string;
      outTradeNo: string;
      outRefundNo: string;
      refundId: string;
      amount: number;
      status: string;
      successAt: number | null;
    },
    openid: string,
    description: string,
  ) => {
    if (sw.omit.has(r.outRefundNo)) return;
    const printed = sw.amounts.get(r.outRefundNo) ?? r.amount;
    // The part of the fee that goes back with the refund: negative.
    const feeMicro = -feeOf(printed, rate);
    rows.push({
      at,
      kind: 'REFUND',
      settlement: 0,
      refund: printed,
      requested: printed,
      orderAmount: 0,
      feeMicro,
      values: {
        ...common(at, r.transactionId, r.outTradeNo, openid, 'REFUND'),
        应结订单金额: '0.00',
        退款申请时间: beijingSpaced(at),
        退款成功时间: r.successAt ? beijingSpaced(r.successAt) : '',
        微信退款单号: r.refundId,
        商户退款单号: r.outRefundNo,
        退款金额: fenToYuan(printed),
        退款类型: 'ORIGINAL',
        退款状态: r.status,
        商品名称: description,
        商户数据包: '',
        手续费: microToYuan(feeMicro),
        订单金额: '0.00',
        申请退款金额: fenToYuan(printed),
      },
    });
  };

  for (const p of s.ledger) {
    if (beijingDate(p.at) !== date) continue;
    const o = s.orders.get(p.outTradeNo);
    if (!o) continue;
    payment(p.at, p.transactionId, p.outTradeNo, o.body.amount.total, o.body.payer.openid, o.body.description, o.body.attach ?? '');
  }
  for (const r of s.refunds.values()) {
    const at = Date.parse(r.createTime);
    if (beijingDate(at) !== date) continue;
    const o = s.orders.get(r.outTradeNo);
    // The bill's state is a snapshot: PROCESSING is how an accepted refund that has not ended yet shows.
    const status = { PROCESSING: 'PROCESSING', SUCCESS: 'SUCCESS', CLOSED: 'CLOSED', ABNORMAL: 'ABNORMAL' }[r.status];
    refund(
      at,
      { ...r, status, successAt: r.successTime ? Date.parse(r.successTime) : null },
      o?.body.payer.openid ?? '',
      o?.body.description ?? '',
    );
  }
  for (const x of sw.strangers) {
    if (beijingDate(x.at) !== date) continue;
    if (x.kind === 'PAYMENT') payment(x.at, x.transactionId, x.outTradeNo, x.amount, 'o-stranger', '商户不知道的订单', '');
    else refund(x.at, { ...x, status: 'SUCCESS', successAt: x.at }, 'o-stranger', '商户不知道的退款');
  }
  return rows.sort((a, b) => a.at - b.at);
}

/** The day's trade bill of `type`, byte for byte as WeChat writes it (UTF-8 BOM, CRLF); null for a day without rows. */
export function tradeBill(s: SandboxState, sw: BookSwitches, date: string, type: TradeBillType): string | null {
  const all = rowsOf(s, sw, date);
  const rows = type === 'ALL' ? all : all.filter((r) => (type === 'SUCCESS' ? r.kind === 'PAYMENT' : r.kind === 'REFUND'));
  if (rows.length === 0) return null;
  const sum = (f: (r: Row) => number) => rows.reduce((a, r) => a + f(r), 0);
  const totals: Record<string, string> = {
    总交易单数: String(rows.length),
    应结订单总金额: fenToYuan(sum((r) => r.settlement)),
    退款总金额: fenToYuan(sum((r) => r.refund)),
    充值券退款总金额: '0.00',
    手续费总金额: microToYuan(sum((r) => r.feeMicro)),
    订单总金额: fenToYuan(sum((r) => r.orderAmount)),
    申请退款总金额: fenToYuan(sum((r) => r.requested)),
  };
  const lines = [
    TRADE_BILL_COLUMNS[type],
    ...rows.map((r) => billLine(TRADE_BILL_COLUMNS[type], r.values)),
    TRADE_BILL_SUMMARY[type],
    billLine(TRADE_BILL_SUMMARY[type], totals),
  ];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

const FUND_COLUMNS =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号';
const FUND_SUMMARY = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额';

/** The day's fund-flow bill of the BASIC account: each payment in and its fee out, each refund out and its fee back. */
export function fundFlowBill(s: SandboxState, sw: BookSwitches, date: string): string | null {
  const rows = rowsOf(s, sw, date);
  if (rows.length === 0) return null;
  let balance = 0;
  let inCount = 0;
  let inSum = 0;
  let outCount = 0;
  let outSum = 0;
  const lines = [FUND_COLUMNS];
  const move = (r: Row, name: string, type: string, fen: number) => {
    if (fen === 0) return;
    const income = fen > 0;
    balance += fen;
    if (income) {
      inCount += 1;
      inSum += fen;
    } else {
      outCount += 1;
      outSum -= fen;
    }
    lines.push(
      billLine(FUND_COLUMNS, {
        记账时间: r.values.交易时间!,
        微信支付业务单号: r.kind === 'PAYMENT' ? r.values.微信订单号! : r.values.微信退款单号!,
        资金流水单号: `1900${digits(24)}`,
        业务名称: name,
        业务类型: type,
        收支类型: income ? '收入' : '支出',
        '收支金额(元)': fenToYuan(Math.abs(fen)),
        '账户结余(元)': fenToYuan(balance),
        资金变更提交申请人: 'system',
        备注: '',
        业务凭证号: r.kind === 'PAYMENT' ? r.values.商户订单号! : r.values.商户退款单号!,
      }),
    );
  };
  for (const r of rows) {
    const fee = Math.round(r.feeMicro / 1000);
    if (r.kind === 'PAYMENT') {
      move(r, '交易', '交易', r.settlement);
      move(r, '扣除交易手续费', '扣除交易手续费', -fee);
    } else {
      move(r, '退款', '退款', -r.refund);
      move(r, '退还交易手续费', '退还交易手续费', -fee);
    }
  }
  lines.push(
    FUND_SUMMARY,
    billLine(FUND_SUMMARY, {
      资金流水总笔数: String(inCount + outCount),
      收入笔数: String(inCount),
      收入金额: fenToYuan(inSum),
      支出笔数: String(outCount),
      支出金额: fenToYuan(outSum),
    }),
  );
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

type Availability = { ok: true } | { ok: false; code: 'INVALID_REQUEST' | 'STATEMENT_CREATING'; message: string };

/** Whether the day's bill can be asked for now (sandbox time): a past day within three months, from 10:00 the next day. */
function availability(s: SandboxState, date: string): Availability {
  const start = dayStart(date);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(start) || beijingDate(start) !== date)
    return { ok: false, code: 'INVALID_REQUEST', message: 'bill_date 格式错误，应为 yyyy-MM-dd' };
  const now = s.now();
  if (start > now) return { ok: false, code: 'INVALID_REQUEST', message: '账单日期不能是未来的日期' };
  if (start < now - 92 * DAY_MS) return { ok: false, code: 'INVALID_REQUEST', message: '只能下载三个月以内的账单' };
  if (!s.controls.billsReadyNow && now < start + DAY_MS + 10 * 3600_000)
    return { ok: false, code: 'STATEMENT_CREATING', message: '账单生成中' };
  return { ok: true };
}

export interface Books {
  switches: BookSwitches;
  /** v3: tradebill, fundflowbill, billdownload/file (mounted after v3's authentication). */
  v3Routes(answers: V3Answers): Router;
  /** v2: POST /pay/downloadbill. */
  v2Routes(): Router;
  /** POST /sandbox/books: the switches (mounted behind the loopback guard). */
  controlRoutes: Router;
}

export function createBooks(s: SandboxState): Books {
  const switches = newBookSwitches();
  const links = new Map<string, { mchid: string; bytes: Buffer; gzip: boolean; expiresAt: number }>();

  function v3Routes({ sendSigned, v3Error }: V3Answers): Router {
    const r = express.Router();
    const apply = (req: Request, res: Response, file: (date: string) => string | null | 'BAD_TYPE') => {
      const date = String(req.query.bill_date ?? '');
      const a = availability(s, date);
      if (!a.ok) return v3Error(req, res, 400, a.code, a.message);
      const tar = req.query.tar_type;
      if (tar !== undefined && tar !== 'GZIP') return v3Error(req, res, 400, 'PARAM_ERROR', 'tar_type 只能是 GZIP');
      const text = file(date);
      if (text === 'BAD_TYPE') return;
      if (text === null) return v3Error(req, res, 400, 'NO_STATEMENT_EXIST', '请求的账单文件不存在');
      const plain = Buffer.from(text, 'utf8');
      const token = crypto.randomBytes(32).toString('base64url');
      const gzip = tar === 'GZIP';
      links.set(token, { mchid: s.keys.mchid, bytes: gzip ? gzipSync(plain) : plain, gzip, expiresAt: s.now() + s.controls.billUrlTtlMs });
      for (const [t, l] of links) if (l.expiresAt <= s.now()) links.delete(t);
      const url = new URL(`/v3/billdownload/file?token=${token}${gzip ? '&tartype=GZIP' : ''}`, `${req.protocol}://${req.get('Host')}`);
      sendSigned(req, res, 200, {
        download_url: url.toString(),
        hash_type: 'SHA1',
        hash_value: crypto.createHash('sha1').update(plain).digest('hex'),
      });
    };
    r.get('/v3/bill/tradebill', (req, res) =>
      apply(req, res, (date) => {
        const type = String(req.query.bill_type ?? 'ALL');
        if (!(type in TRADE_BILL_COLUMNS)) {
          v3Error(req, res, 400, 'PARAM_ERROR', 'bill_type 只能是 ALL、SUCCESS 或 REFUND');
          return 'BAD_TYPE';
        }
        return tradeBill(s, switches, date, type as TradeBillType);
      }),
    );
    r.get('/v3/bill/fundflowbill', (req, res) =>
      apply(req, res, (date) => {
        const type = String(req.query.account_type ?? 'BASIC');
        if (!['BASIC', 'OPERATION', 'FEES'].includes(type)) {
          v3Error(req, res, 400, 'PARAM_ERROR', 'account_type 只能是 BASIC、OPERATION 或 FEES');
          return 'BAD_TYPE';
        }
        return type === 'BASIC' ? fundFlowBill(s, switches, date) : null;
      }),
    );
    // The download: signed by the merchant (checked before this route), answered unsigned, as WeChat does.
    r.get('/v3/billdownload/file', (req, res) => {
      const link = links.get(String(req.query.token ?? ''));
      if (!link || link.expiresAt <= s.now() || (req.query.tartype !== undefined) !== link.gzip)
        return v3Error(req, res, 400, 'INVALID_REQUEST', '下载链接不合法');
      res.status(200).type('application/octet-stream').send(link.bytes);
    });
    return r;
  }

  function v2Routes(): Router {
    const r = express.Router();
    const fail = (res: Response, msg: string, code: string) =>
      res.type('text/xml').send(buildV2Xml({ return_code: 'FAIL', return_msg: msg, error_code: code }));
    r.post('/pay/downloadbill', express.text({ type: () => true, limit: '64kb' }), (req, res) => {
      let p: Record<string, string>;
      try {
        p = parseV2Xml(typeof req.body === 'string' ? req.body : '');
      } catch {
        return fail(res, 'data format error', '20003');
      }
      const signType = declaredSignType(p);
      if (!signType || !p.sign || !v2Verify(p, s.keys.apiV2Key!, signType)) return fail(res, 'sign error', '20001');
      if (p.appid !== s.keys.appid || p.mch_id !== s.keys.mchid) return fail(res, 'invalid appid or mch_id', '20003');
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(p.bill_date ?? '');
      if (!m) return fail(res, 'invalid bill_date', '20003');
      const type = p.bill_type ?? 'ALL';
      if (!(type in TRADE_BILL_COLUMNS)) return fail(res, 'invalid bill_type', '20003');
      const date = `${m[1]}-${m[2]}-${m[3]}`;
      const a = availability(s, date);
      if (!a.ok) return a.code === 'STATEMENT_CREATING' ? fail(res, 'Bill Creating', '20004') : fail(res, 'invalid bill_date', '20003');
      const text = tradeBill(s, switches, date, type as TradeBillType);
      if (text === null) return fail(res, 'No Bill Exist', '20002');
      const plain = Buffer.from(text, 'utf8');
      if (p.tar_type === 'GZIP') return res.type('application/x-gzip').send(gzipSync(plain));
      res.type('text/plain; charset=utf-8').send(plain);
    });
    return r;
  }

  const switchSchema = z.strictObject({
    omit: z.array(z.string().min(1).max(64)).max(1000).optional(),
    amounts: z.record(z.string().min(1).max(64), z.number().int().positive()).optional(),
    strangerPayment: z.strictObject({ amount: z.number().int().positive() }).optional(),
    strangerRefund: z.strictObject({ transactionId: z.string().min(1).max(64), amount: z.number().int().positive() }).optional(),
    /** A refund fails at WeChat after the merchant heard it succeeded (no notification). */
    refundFails: z.string().min(1).max(64).optional(),
    reset: z.boolean().optional(),
  });
  const shown = () => ({
    omit: [...switches.omit],
    amounts: Object.fromEntries(switches.amounts),
    strangers: switches.strangers,
  });
  const controlRoutes = express.Router();
  controlRoutes.get('/books', (_req, res) => res.json(shown()));
  controlRoutes.post('/books', express.json({ limit: '64kb' }), (req, res) => {
    const parsed = switchSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return res.status(400).json({ errMsg: `${issue.path.join('.') || 'books'}: ${issue.message}` });
    }
    const b = parsed.data;
    if (b.reset) Object.assign(switches, newBookSwitches());
    for (const k of b.omit ?? []) switches.omit.add(k);
    for (const [k, v] of Object.entries(b.amounts ?? {})) switches.amounts.set(k, v);
    const made: Record<string, string> = {};
    if (b.strangerPayment) {
      const transactionId = `42000${beijingDate(s.now()).replaceAll('-', '')}${digits(15)}`;
      const outTradeNo = `STRANGER${digits(16)}`;
      switches.strangers.push({
        kind: 'PAYMENT',
        transactionId,
        outTradeNo,
        outRefundNo: '0',
        refundId: '0',
        amount: b.strangerPayment.amount,
        at: s.now(),
      });
      Object.assign(made, { transactionId, outTradeNo });
    }
    if (b.strangerRefund) {
      const outTradeNo = s.transactions.get(b.strangerRefund.transactionId);
      if (!outTradeNo) return res.status(404).json({ errMsg: `no transaction ${b.strangerRefund.transactionId}` });
      const outRefundNo = `RFSTRANGER${digits(16)}`;
      switches.strangers.push({
        kind: 'REFUND',
        transactionId: b.strangerRefund.transactionId,
        outTradeNo,
        outRefundNo,
        refundId: `50${digits(27)}`,
        amount: b.strangerRefund.amount,
        at: s.now(),
      });
      made.outRefundNo = outRefundNo;
    }
    if (b.refundFails) {
      const r = s.refunds.get(b.refundFails);
      if (!r) return res.status(404).json({ errMsg: `no refund ${b.refundFails}` });
      r.status = 'ABNORMAL';
      r.successTime = null;
    }
    res.json({ ...shown(), ...made });
  });
  return { switches, v3Routes, v2Routes, controlRoutes };
}
