// One schema for every environment variable, validated once at boot. A bad or missing value
// stops the server with a message naming the variable. README's configuration table mirrors this.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const MESSAGE_FIELDS = ['order', 'item', 'amount', 'time', 'carrier', 'trackingNo', 'reason'];
/** `field:keyword,…`, each field a message field and each keyword `<type><n>` (thing3, amount2, …). */
const keywordMap = z.string().transform((s, ctx) => {
  const map: Record<string, string> = {};
  for (const pair of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [field, keyword] = pair.split(':').map((x) => x.trim());
    if (!field || !MESSAGE_FIELDS.includes(field) || !keyword || !/^[a-z_]+\d+$/.test(keyword)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${pair}": field:keyword with field one of ${MESSAGE_FIELDS.join(', ')} and keyword like thing3`,
      });
      return z.NEVER;
    }
    map[field] = keyword;
  }
  return map;
});
const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|localhost|::1|\[::1\])$/i;

/** A host name or address that only this machine can reach. */
export const isLoopbackHost = (host: string): boolean => LOOPBACK_HOST.test(host);

const truthy = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => ['1', 'true', 'yes'].includes(s))
  .optional();

export const ENV_SCHEMA = z.object({
  NODE_ENV: optionalString,
  PORT: port.default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./data'),
  MONGODB_URI: optionalString.pipe(
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_TTL_HOURS: positiveInt.default(72),
  ORDER_PAY_WINDOW_MINUTES: positiveInt.max(60 * 24 * 7).default(30),
  ORDER_QUERY_THROTTLE_MS: z.coerce.number().int().min(0).default(1000),
  /** 0 turns the background job off (then run `npm run reconcile` from cron). */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().min(0).default(60),
  RECONCILE_MIN_AGE_SECONDS: z.coerce.number().min(0).default(60),
  /** Subscribe messages: the template ids (none: that message is neither asked for nor sent) and, for each, which
   *  keyword shows what (`field:keyword,…`; fields: order, item, amount, time, carrier, trackingNo, reason). */
  SUBSCRIBE_TEMPLATE_PAID: z
    .string()
    .regex(/^[\w-]{1,128}$/, 'a template id (priTmplId)')
    .optional(),
  SUBSCRIBE_TEMPLATE_SHIPPED: z
    .string()
    .regex(/^[\w-]{1,128}$/, 'a template id (priTmplId)')
    .optional(),
  SUBSCRIBE_TEMPLATE_REFUNDED: z
    .string()
    .regex(/^[\w-]{1,128}$/, 'a template id (priTmplId)')
    .optional(),
  SUBSCRIBE_KEYWORDS_PAID: keywordMap.prefault('order:character_string1,amount:amount2,item:thing3,time:time4'),
  SUBSCRIBE_KEYWORDS_SHIPPED: keywordMap.prefault('order:character_string1,carrier:thing2,trackingNo:character_string3,item:thing4'),
  SUBSCRIBE_KEYWORDS_REFUNDED: keywordMap.prefault('order:character_string1,amount:amount2,reason:thing3,time:time4'),
  /** How often queued subscribe messages are sent (also right after an event). */
  SUBSCRIBE_SEND_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  /** When the daily books run, Beijing time (WeChat's bill for a day is ready from about 10:00 the next day). */
  BOOKS_AT: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour, Beijing time')
    .default('10:30'),
  /** How many past days the daily books look back for a day not yet reconciled; 0 turns them off. */
  BOOKS_LOOKBACK_DAYS: z.coerce.number().int().min(0).max(90).default(7),
  WECHATPAY_TIMEOUT_MS: positiveInt.default(10_000),
  /** API v3: how often the platform certificates are downloaded again (WeChat lists a new one 24 h before use). */
  WECHATPAY_CERT_REFRESH_HOURS: z.coerce.number().positive().max(12).default(12),
  SERVE_CLIENT: z.enum(['auto', 'off']).default('auto'),
  /** Per-minute limits: login per client address; placing orders, Retry and order reads per shopper. */
  LIMIT_LOGIN_PER_MINUTE: positiveInt.default(30),
  LIMIT_ORDERS_PER_MINUTE: positiveInt.default(60),
  LIMIT_RETRIES_PER_MINUTE: positiveInt.default(30),
  LIMIT_READS_PER_MINUTE: positiveInt.default(300),
  /** Message pushes (the mini program's 消息推送 configuration): its Token and EncodingAESKey. Unset: /api/wechat/messages answers 404. */
  WECHAT_MESSAGE_TOKEN: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9]{3,32}$/, 'must be the 3–32 letters and digits set as the message push Token')
      .optional(),
  ),
  WECHAT_MESSAGE_AES_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character EncodingAESKey of the message push configuration')
      .optional(),
  ),
  /** The shop's contact number: sent masked (138****8000) with SF Express shipments, as WeChat requires; never in full. */
  SHOP_CONTACT_PHONE: optionalString.pipe(
    z
      .string()
      .regex(/^(\+\d{1,3}-)?[\d-]{7,20}$/, 'must be a phone number (digits and dashes, optionally +86-)')
      .optional(),
  ),
  /** Where WeChat's shipping messages open the mini program (set_msg_jump_path). */
  SHIPPING_JUMP_PATH: z
    .string()
    .regex(/^[\w/-]{1,128}$/, 'must be a mini program page path such as pages/orders/index')
    .default('pages/orders/index'),
  /** Written by the sandbox into sandbox.env: WeChat is the local sandbox at this address. */
  SANDBOX_URL: optionalString.pipe(z.url().optional()),
  /** Which proxies to believe for the client's address (X-Forwarded-For): unset believes none. */
  TRUST_PROXY: optionalString,
  /** 32 bytes (base64 or hex) that encrypt secrets at rest (session_key). */
  DATA_ENCRYPTION_KEY: optionalString,
  /** The operator's bearer token for /api/admin; unset turns the admin routes off. */
  ADMIN_TOKEN: optionalString.pipe(
    z.string().min(32, 'must be at least 32 characters').max(256).regex(/^\S+$/, 'must not contain spaces').optional(),
  ),
  /** The documented opt-in to run against the sandbox in production or on a public interface. */
  UNSAFE_ALLOW_SANDBOX: truthy,

  WECHAT_APPID: optionalString.pipe(
    z
      .string()
      .regex(/^wx[0-9a-zA-Z]{16}$/, 'must look like wx followed by 16 letters or digits')
      .optional(),
  ),
  WECHAT_APP_SECRET: optionalString,
  WECHATPAY_MCHID: optionalString.pipe(
    z
      .string()
      .regex(/^\d{6,32}$/, 'must be the numeric merchant id')
      .optional(),
  ),
  WECHATPAY_PRIVATE_KEY_FILE: optionalString,
  WECHATPAY_CERT_SERIAL: optionalString.pipe(
    z
      .string()
      .regex(/^[0-9A-Fa-f]{8,40}$/, 'must be the hex serial of the merchant API certificate')
      .optional(),
  ),
  WECHATPAY_APIV3_KEY: optionalString.pipe(
    z.string().length(32, 'must be exactly 32 characters (the APIv3 key, not the APIv2 key)').optional(),
  ),
  WECHATPAY_PUBLIC_KEY_FILE: optionalString,
  WECHATPAY_PUBLIC_KEY_ID: optionalString.pipe(
    z
      .string()
      .regex(/^PUB_KEY_ID_\w+$/, 'must start with PUB_KEY_ID_')
      .optional(),
  ),
  /** Comma-separated PEM files of platform certificates; several during a rotation. */
  WECHATPAY_PLATFORM_CERT_FILES: optionalString,
  WECHATPAY_NOTIFY_URL: optionalString,
  /** Which WeChat Pay API: v3 (JSON, RSA) or v2 (XML, MD5 / HMAC-SHA256 with the APIv2 key). */
  WECHATPAY_API_VERSION: z.enum(['v3', 'v2']).default('v3'),
  WECHATPAY_APIV2_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^[0-9A-Za-z]{32}$/, 'must be the 32-character APIv2 key (letters and digits)')
      .optional(),
  ),
  WECHATPAY_V2_SIGN_TYPE: z.enum(['MD5', 'HMAC-SHA256']).default('MD5'),
  /** apiclient_cert.pem, the merchant API certificate: v2 refunds present it (mutual TLS). */
  WECHATPAY_CERT_FILE: optionalString,
  /** Where v2 refunds are sent (WeChat: the API host itself). */
  WECHATPAY_V2_REFUND_BASE: optionalString.pipe(z.url().optional()),
  /** A CA to trust for the v2 refund host: only for a sandbox, whose certificate is its own. */
  WECHATPAY_V2_CA_FILE: optionalString,
  /** spbill_create_ip for v2 orders. */
  WECHATPAY_V2_CLIENT_IP: z.string().default('127.0.0.1'),
  WECHAT_API_BASE: z.url().default('https://api.weixin.qq.com'),
  WECHATPAY_API_BASE: z.url().default('https://api.mch.weixin.qq.com'),
});

export type Env = z.infer<typeof ENV_SCHEMA>;

export interface WechatCredentials {
  appid: string;
  appSecret: string;
  mchid: string;
  notifyUrl: string;
  wechatApiBase: string;
  wechatPayApiBase: string;
}

export interface WechatPayV3Settings {
  version: 'v3';
  privateKeyFile: string;
  certSerial: string;
  apiV3Key: string;
  publicKey?: { file: string; id: string };
  platformCertFiles: string[];
}

export interface WechatPayV2Settings {
  version: 'v2';
  apiKey: string;
  signType: 'MD5' | 'HMAC-SHA256';
  /** The merchant API certificate and key for refunds; without them refunds are refused with the reason. */
  tls?: { certFile: string; keyFile: string; caFile?: string };
  refundBase: string;
  clientIp: string;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  mongodbUri?: string;
  logLevel: Env['LOG_LEVEL'];
  sessionTtlMs: number;
  orderPayWindowMs: number;
  orderQueryThrottleMs: number;
  reconcileIntervalMs: number;
  reconcileMinAgeMs: number;
  /** Subscribe messages: each kind's template and keyword map (absent: not asked for, not sent), and the send loop. */
  subscribe: {
    templates: Partial<Record<'paid' | 'shipped' | 'refunded', { id: string; keywords: Record<string, string> }>>;
    intervalMs: number;
  };
  /** The daily books: minutes after midnight (Beijing) they run, and how many days back they look (0: off). */
  books: { atMinutes: number; lookbackDays: number };
  wechatPayTimeoutMs: number;
  /** API v3: how often the platform certificates are downloaded again. */
  certificateRefreshMs: number;
  serveClient: boolean;
  limits: { loginPerMinute: number; ordersPerMinute: number; retriesPerMinute: number; readsPerMinute: number };
  wechat: WechatCredentials;
  wechatPay: WechatPayV3Settings | WechatPayV2Settings;
  /** The local sandbox's address when it stands in for WeChat (from its sandbox.env); null for WeChat itself. */
  sandboxUrl: string | null;
  adminToken: string | null;
  /** Express's `trust proxy` setting: false (the default), a hop count, or addresses and subnets. */
  trustProxy: false | number | string[];
  /** The key that encrypts secrets at rest. */
  dataKey: Buffer;
  /** Warnings to print at every start (the unsafe-sandbox opt-in). */
  warnings: string[];
  /** Shipping-info management: message pushes, the shop's contact number, the page shipping messages open. */
  shipping: { messageToken: string | null; messageAesKey: string | null; contactPhone: string | null; jumpPath: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** DATA_ENCRYPTION_KEY: 32 bytes as base64 (44 characters) or hex (64). */
export function parseDataKey(value: string): Buffer | null {
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(value)
      ? Buffer.from(value, 'base64')
      : null;
  return key && key.length === 32 ? key : null;
}

/** TRUST_PROXY: a hop count, or a comma-separated list of addresses and subnets (or loopback, linklocal, uniquelocal). */
export function parseTrustProxy(value: string | undefined): false | number | string[] | string {
  if (!value || value === 'false' || value === '0') return false;
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true') return 'true: trusting every hop lets any client choose its address; give the number of proxies or their addresses';
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const item of list) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) continue;
    const [addr, bits] = item.split('/');
    if (!ipaddr.isValid(addr ?? '') || (bits !== undefined && !/^\d{1,3}$/.test(bits)))
      return `${item} is not an address, a subnet, loopback, linklocal or uniquelocal`;
  }
  return list;
}

/** The variables the server cannot start without, whatever the API version. */
export const REQUIRED_WECHAT_VARIABLES = [
  'WECHAT_APPID',
  'WECHAT_APP_SECRET',
  'WECHATPAY_MCHID',
  'WECHATPAY_NOTIFY_URL',
  'DATA_ENCRYPTION_KEY',
] as const;
/** And for API v3 (besides a WeChat Pay public key or platform certificates). */
export const REQUIRED_V3_VARIABLES = ['WECHATPAY_PRIVATE_KEY_FILE', 'WECHATPAY_CERT_SERIAL', 'WECHATPAY_APIV3_KEY'] as const;
/** And for API v2. */
export const REQUIRED_V2_VARIABLES = ['WECHATPAY_APIV2_KEY'] as const;

/** WeChat Pay's notify_url path on this server (WECHATPAY_NOTIFY_URL must end with it). */
export const NOTIFY_PATH = '/api/wechatpay/notify';
/** The mini program's message-push URL path (消息推送) on this server. */
export const MESSAGES_PATH = '/api/wechat/messages';
/** Where WeChat Pay sends complaint notifications (registered beside the notify URL). */
export const COMPLAINTS_PATH = '/api/wechatpay/complaints';

/** Why a host is not one WeChat's servers can reach on the public internet, or null. */
function privateHostProblem(host: string): string | null {
  const bare = host.replace(/^\[|\]$/g, '');
  if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(bare)) return 'must be publicly reachable, not a local name';
  if (!ipaddr.isValid(bare)) return null; // a public DNS name
  let addr = ipaddr.parse(bare);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  const range = addr.range();
  return range === 'unicast' ? null : `must be publicly reachable, not a ${range} address`;
}

/**
 * WeChat only delivers to public https URLs without a query string or explicit port; ours must also
 * name this server's notify route, without credentials or a fragment.
 */
export function notifyUrlProblem(url: string, o: { sandbox?: boolean } = {}): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.username || u.password) return 'must not carry credentials';
  if (u.hash || url.includes('#')) return 'must not carry a fragment';
  if (u.search || url.includes('?')) return 'must not contain a query string';
  if (!u.pathname.endsWith(NOTIFY_PATH)) return `must end with ${NOTIFY_PATH}, this server's notify route`;
  // The local sandbox delivers over plain http to this machine; WeChat never does.
  if (o.sandbox && u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, ''))) return null;
  if (u.protocol !== 'https:') return 'must use https:// (WeChat does not deliver to http)';
  if (u.port) return 'must not name a port (WeChat drops it)';
  return privateHostProblem(u.hostname);
}

/** WeChat's own API bases are https; only a sandbox on this machine may be plain http. */
export function apiBaseProblem(url: string, o: { sandbox?: boolean } = {}): string | null {
  const u = new URL(url);
  if (u.protocol === 'https:') return null;
  if (o.sandbox && u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, ''))) return null;
  return "must use https:// (over http the AppSecret and WeChat's answers could be read and changed on the way)";
}

/**
 * Why a sandbox-backed configuration must not start here, or null. The sandbox lets anyone pay
 * any order, so it stays on loopback and out of production unless the operator opts in.
 */
export function sandboxSafetyProblem(e: { NODE_ENV?: string; HOST: string; UNSAFE_ALLOW_SANDBOX?: boolean }): string | null {
  if (e.UNSAFE_ALLOW_SANDBOX) return null;
  if (e.NODE_ENV === 'production') {
    return 'NODE_ENV=production, but WeChat is the local sandbox, which lets anyone pay any order. Set the WeChat variables for production (see README), or set UNSAFE_ALLOW_SANDBOX=true to run the sandbox anyway';
  }
  if (!isLoopbackHost(e.HOST)) {
    return `HOST=${e.HOST} is not a loopback address, but WeChat is the local sandbox, which lets anyone who reaches it pay any order. Use HOST=127.0.0.1, or set UNSAFE_ALLOW_SANDBOX=true to expose it anyway`;
  }
  return null;
}

export const UNSAFE_SANDBOX_WARNING =
  'WARNING: UNSAFE_ALLOW_SANDBOX is set: WeChat is the local sandbox, and anyone who reaches this server or the sandbox can pay any order without money. Never use this for a real shop.';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ENV_SCHEMA.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const sandbox = Boolean(e.SANDBOX_URL);
  const problems: string[] = [];
  const v2 = e.WECHATPAY_API_VERSION === 'v2';
  for (const k of REQUIRED_WECHAT_VARIABLES) if (!e[k]) problems.push(`${k}: required`);
  for (const k of v2 ? REQUIRED_V2_VARIABLES : REQUIRED_V3_VARIABLES)
    if (!e[k]) problems.push(`${k}: required for API ${e.WECHATPAY_API_VERSION}`);
  const hasPublicKey = Boolean(e.WECHATPAY_PUBLIC_KEY_FILE || e.WECHATPAY_PUBLIC_KEY_ID);
  const certFiles = (e.WECHATPAY_PLATFORM_CERT_FILES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!v2) {
    if (hasPublicKey && !(e.WECHATPAY_PUBLIC_KEY_FILE && e.WECHATPAY_PUBLIC_KEY_ID)) {
      problems.push('WECHATPAY_PUBLIC_KEY_FILE and WECHATPAY_PUBLIC_KEY_ID: set both or neither');
    }
  } else {
    if (Boolean(e.WECHATPAY_CERT_FILE) !== Boolean(e.WECHATPAY_PRIVATE_KEY_FILE)) {
      problems.push(
        'WECHATPAY_CERT_FILE and WECHATPAY_PRIVATE_KEY_FILE: set both (v2 refunds present the merchant API certificate) or neither (no refunds)',
      );
    }
    if (e.WECHATPAY_V2_CA_FILE && !sandbox)
      problems.push(
        'WECHATPAY_V2_CA_FILE: only a sandbox configuration may trust its own CA; WeChat Pay is trusted through the system CAs',
      );
    if (e.WECHATPAY_V2_REFUND_BASE) {
      const p = apiBaseProblem(e.WECHATPAY_V2_REFUND_BASE, { sandbox });
      if (p) problems.push(`WECHATPAY_V2_REFUND_BASE: ${p}`);
    }
  }
  if (e.WECHATPAY_NOTIFY_URL) {
    const p = notifyUrlProblem(e.WECHATPAY_NOTIFY_URL, { sandbox });
    if (p) problems.push(`WECHATPAY_NOTIFY_URL: ${p}`);
  }
  for (const k of ['WECHAT_API_BASE', 'WECHATPAY_API_BASE'] as const) {
    const p = apiBaseProblem(e[k], { sandbox });
    if (p) problems.push(`${k}: ${p}`);
  }
  const dataKey = e.DATA_ENCRYPTION_KEY ? parseDataKey(e.DATA_ENCRYPTION_KEY) : null;
  if (e.DATA_ENCRYPTION_KEY && !dataKey)
    problems.push('DATA_ENCRYPTION_KEY: must be 32 bytes, as base64 (44 characters) or hex (64); `openssl rand -base64 32` makes one');
  if (Boolean(e.WECHAT_MESSAGE_TOKEN) !== Boolean(e.WECHAT_MESSAGE_AES_KEY))
    problems.push('WECHAT_MESSAGE_TOKEN and WECHAT_MESSAGE_AES_KEY: set both (message pushes in safe mode) or neither');
  const trustProxy = parseTrustProxy(e.TRUST_PROXY);
  if (typeof trustProxy === 'string') problems.push(`TRUST_PROXY: ${trustProxy}`);
  const warnings: string[] = [];
  if (sandbox) {
    const unsafe = sandboxSafetyProblem(e);
    if (unsafe) problems.push(`SANDBOX_URL: ${unsafe}`);
    else if (e.UNSAFE_ALLOW_SANDBOX) warnings.push(UNSAFE_SANDBOX_WARNING);
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    mongodbUri: e.MONGODB_URI,
    logLevel: e.LOG_LEVEL,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3600_000,
    orderPayWindowMs: e.ORDER_PAY_WINDOW_MINUTES * 60_000,
    orderQueryThrottleMs: e.ORDER_QUERY_THROTTLE_MS,
    reconcileIntervalMs: Math.round(e.RECONCILE_INTERVAL_SECONDS * 1000),
    reconcileMinAgeMs: Math.round(e.RECONCILE_MIN_AGE_SECONDS * 1000),
    subscribe: {
      templates: {
        ...(e.SUBSCRIBE_TEMPLATE_PAID ? { paid: { id: e.SUBSCRIBE_TEMPLATE_PAID, keywords: e.SUBSCRIBE_KEYWORDS_PAID } } : {}),
        ...(e.SUBSCRIBE_TEMPLATE_SHIPPED ? { shipped: { id: e.SUBSCRIBE_TEMPLATE_SHIPPED, keywords: e.SUBSCRIBE_KEYWORDS_SHIPPED } } : {}),
        ...(e.SUBSCRIBE_TEMPLATE_REFUNDED
          ? { refunded: { id: e.SUBSCRIBE_TEMPLATE_REFUNDED, keywords: e.SUBSCRIBE_KEYWORDS_REFUNDED } }
          : {}),
      },
      intervalMs: e.SUBSCRIBE_SEND_INTERVAL_MS,
    },
    books: {
      atMinutes: Number(e.BOOKS_AT.slice(0, 2)) * 60 + Number(e.BOOKS_AT.slice(3)),
      lookbackDays: e.BOOKS_LOOKBACK_DAYS,
    },
    wechatPayTimeoutMs: e.WECHATPAY_TIMEOUT_MS,
    certificateRefreshMs: Math.round(e.WECHATPAY_CERT_REFRESH_HOURS * 3600_000),
    serveClient: e.SERVE_CLIENT === 'auto',
    limits: {
      loginPerMinute: e.LIMIT_LOGIN_PER_MINUTE,
      ordersPerMinute: e.LIMIT_ORDERS_PER_MINUTE,
      retriesPerMinute: e.LIMIT_RETRIES_PER_MINUTE,
      readsPerMinute: e.LIMIT_READS_PER_MINUTE,
    },
    sandboxUrl: e.SANDBOX_URL ?? null,
    adminToken: e.ADMIN_TOKEN ?? null,
    trustProxy: trustProxy as false | number | string[],
    dataKey: dataKey!,
    warnings,
    shipping: {
      messageToken: e.WECHAT_MESSAGE_TOKEN ?? null,
      messageAesKey: e.WECHAT_MESSAGE_AES_KEY ?? null,
      contactPhone: e.SHOP_CONTACT_PHONE ?? null,
      jumpPath: e.SHIPPING_JUMP_PATH,
    },
    wechat: {
      appid: e.WECHAT_APPID!,
      appSecret: e.WECHAT_APP_SECRET!,
      mchid: e.WECHATPAY_MCHID!,
      notifyUrl: e.WECHATPAY_NOTIFY_URL!,
      wechatApiBase: e.WECHAT_API_BASE,
      wechatPayApiBase: e.WECHATPAY_API_BASE,
    },
    wechatPay: v2
      ? {
          version: 'v2',
          apiKey: e.WECHATPAY_APIV2_KEY!,
          signType: e.WECHATPAY_V2_SIGN_TYPE,
          tls: e.WECHATPAY_CERT_FILE
            ? { certFile: e.WECHATPAY_CERT_FILE, keyFile: e.WECHATPAY_PRIVATE_KEY_FILE!, caFile: e.WECHATPAY_V2_CA_FILE }
            : undefined,
          refundBase: e.WECHATPAY_V2_REFUND_BASE ?? e.WECHATPAY_API_BASE,
          clientIp: e.WECHATPAY_V2_CLIENT_IP,
        }
      : {
          version: 'v3',
          privateKeyFile: e.WECHATPAY_PRIVATE_KEY_FILE!,
          certSerial: e.WECHATPAY_CERT_SERIAL!.toUpperCase(),
          apiV3Key: e.WECHATPAY_APIV3_KEY!,
          publicKey: hasPublicKey ? { file: e.WECHATPAY_PUBLIC_KEY_FILE!, id: e.WECHATPAY_PUBLIC_KEY_ID! } : undefined,
          platformCertFiles: certFiles,
        },
  };
}
