// `npm run doctor`: checks a configuration before launch, the way WeChat Pay integrations most often
// fail — a key that does not match its certificate, a serial from another certificate, an APIv3 key of
// the wrong length, an http notify URL, a skewed clock — and ends with a signed call that WeChat Pay
// must answer. Each check says what is wrong and how to fix it; the exit code is 0 only when all pass.
import { createShippingApi } from './wechat/shipping-api';
import { beijingDate } from './domain/book-day';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { systemClock, type Clock } from './clock';
import { apiBaseProblem, COMPLAINTS_PATH, ConfigError, ENV_SCHEMA, loadConfig, NOTIFY_PATH, notifyUrlProblem } from './config';
import { createProviders } from './wiring';
import { PaymentProviderError } from './domain/ports/payment-provider';
import { MAX_SKEW_S } from './wechatpay/signed-message';
import { createAccessTokens, WechatApiError } from './wechat/access-token';
import { httpCall } from './wechat/http';
import { localSandboxEnv, sandboxEnvFile } from './local-env';

export interface Check {
  name: string;
  ok: boolean;
  /** What was found. */
  detail?: string;
  /** What to do about it (failures only). */
  fix?: string;
}

/** A clock further off than this fails the check: WeChat refuses at 300 s, and the margin is for drift. */
export const CLOCK_TOLERANCE_S = 60;
/** Keys expiring within this many days are reported (doctor, ops page, metric). */
export const EXPIRY_WARNING_DAYS = 30;

/**
 * The environment to check: the process's own, or — when it names no WeChat credentials — the local
 * sandbox's (`DATA_DIR/sandbox/sandbox.env`, as `npm start` wrote it) with the data key beside it.
 */
export function doctorEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; source: string } {
  if (env.WECHAT_APPID) return { env, source: 'the environment' };
  const dataDir = env.DATA_DIR ?? './data';
  const local = localSandboxEnv(dataDir);
  if (!local) return { env, source: 'the environment (no WECHAT_APPID, and no sandbox.env: run `npm start` first to check the sandbox)' };
  const { DATA_ENCRYPTION_KEY, ...sandbox } = local;
  return {
    env: { ...env, ...sandbox, ...(DATA_ENCRYPTION_KEY && !env.DATA_ENCRYPTION_KEY ? { DATA_ENCRYPTION_KEY } : {}) },
    source: sandboxEnvFile(dataDir),
  };
}

const readable = (file: string): string | Error => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    return new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
};

export async function runDoctor(env: NodeJS.ProcessEnv, o: { clock?: Clock; timeoutMs?: number } = {}): Promise<Check[]> {
  const clock = o.clock ?? systemClock;
  const checks: Check[] = [];
  const pass = (name: string, detail?: string) => checks.push({ name, ok: true, detail });
  const fail = (name: string, detail: string, fix: string) => checks.push({ name, ok: false, detail, fix });
  /** A key's expiry: passes with the date, fails EXPIRY_WARNING_DAYS ahead with what to do. */
  const expiry = (name: string, notAfter: number, fix: string) => {
    const days = Math.floor((notAfter - clock.now()) / 86_400_000);
    const when = new Date(notAfter).toISOString().slice(0, 10);
    if (days >= EXPIRY_WARNING_DAYS) pass(name, `valid until ${when} (${days} days)`);
    else fail(name, days < 0 ? `expired on ${when}` : `expires on ${when}, in ${days} days`, fix);
  };
  const parsed = ENV_SCHEMA.safeParse(env);
  const e = parsed.success ? parsed.data : (env as Record<string, string | undefined>);
  const sandbox = Boolean(env.SANDBOX_URL);
  const v2 = env.WECHATPAY_API_VERSION === 'v2';

  // 1. The configuration as the server reads it: every variable's own rule.
  let configProblems: string[] = [];
  try {
    loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configProblems = err.problems;
  }
  if (configProblems.length === 0) pass('Configuration', `API ${v2 ? 'v2' : 'v3'}${sandbox ? ', against the local sandbox' : ''}`);
  else fail('Configuration', configProblems.join('; '), 'set each variable named as README (Configuration) describes');

  // 2. Keys and certificates.
  const privateKeyFile = env.WECHATPAY_PRIVATE_KEY_FILE;
  let privateKey: crypto.KeyObject | null = null;
  if (privateKeyFile) {
    const pem = readable(privateKeyFile);
    if (pem instanceof Error)
      fail(
        'Merchant private key',
        pem.message,
        'point WECHATPAY_PRIVATE_KEY_FILE at apiclient_key.pem from the merchant console, readable by this user',
      );
    else {
      try {
        privateKey = crypto.createPrivateKey(pem);
        const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
        if (privateKey.asymmetricKeyType !== 'rsa' || bits !== 2048) {
          fail(
            'Merchant private key',
            `${privateKey.asymmetricKeyType} ${bits} bits`,
            'WeChat Pay merchant keys are RSA-2048: use apiclient_key.pem, not another key',
          );
        } else pass('Merchant private key', 'RSA-2048');
      } catch {
        fail(
          'Merchant private key',
          `${privateKeyFile} is not a PEM private key`,
          'use apiclient_key.pem (BEGIN PRIVATE KEY), not the certificate or the .p12',
        );
      }
    }
  } else if (!v2) fail('Merchant private key', 'WECHATPAY_PRIVATE_KEY_FILE is not set', 'set it to the path of apiclient_key.pem');

  if (env.WECHATPAY_CERT_FILE) {
    const pem = readable(env.WECHATPAY_CERT_FILE);
    if (pem instanceof Error) fail('Merchant certificate', pem.message, 'point WECHATPAY_CERT_FILE at apiclient_cert.pem');
    else {
      let cert: crypto.X509Certificate | null = null;
      try {
        cert = new crypto.X509Certificate(pem);
      } catch {
        fail(
          'Merchant certificate',
          `${env.WECHATPAY_CERT_FILE} is not a PEM certificate`,
          'use apiclient_cert.pem from the merchant console',
        );
      }
      if (cert) {
        const serial = cert.serialNumber.toUpperCase().replace(/^0+/, '');
        const configured = (env.WECHATPAY_CERT_SERIAL ?? '').toUpperCase().replace(/^0+/, '');
        if (!v2) {
          if (configured === serial) pass('Certificate serial', `WECHATPAY_CERT_SERIAL matches the certificate (${cert.serialNumber})`);
          else
            fail(
              'Certificate serial',
              `WECHATPAY_CERT_SERIAL is ${env.WECHATPAY_CERT_SERIAL ?? '(unset)'}, the certificate's serial is ${cert.serialNumber}`,
              `set WECHATPAY_CERT_SERIAL=${cert.serialNumber} (\`openssl x509 -in apiclient_cert.pem -noout -serial\`)`,
            );
        }
        expiry(
          'Merchant certificate expiry',
          Date.parse(cert.validTo),
          'renew the merchant API certificate in the merchant console (API安全 → 申请API证书), then replace apiclient_cert.pem and apiclient_key.pem and set WECHATPAY_CERT_SERIAL',
        );
        if (privateKey) {
          const der = (k: crypto.KeyObject) => k.export({ type: 'spki', format: 'der' });
          if (der(crypto.createPublicKey(privateKey)).equals(der(cert.publicKey)))
            pass('Key and certificate', "the private key is the certificate's");
          else
            fail(
              'Key and certificate',
              'the private key does not belong to the merchant certificate',
              'use the apiclient_key.pem issued together with apiclient_cert.pem (both from the same download)',
            );
        }
      }
    }
  }

  if (!v2) {
    const key = env.WECHATPAY_APIV3_KEY ?? '';
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes === 32) pass('APIv3 key', '32 bytes');
    else
      fail(
        'APIv3 key',
        `${bytes} bytes`,
        'WECHATPAY_APIV3_KEY must be exactly 32 bytes: the APIv3 key set in the merchant console (API安全), not the APIv2 key',
      );
    const id = env.WECHATPAY_PUBLIC_KEY_ID;
    if (id !== undefined) {
      if (/^PUB_KEY_ID_\d+$/.test(id)) pass('WeChat Pay public key id', id);
      else
        fail(
          'WeChat Pay public key id',
          id,
          'WECHATPAY_PUBLIC_KEY_ID is PUB_KEY_ID_ followed by digits, as shown beside the public key in the merchant console',
        );
    }
    if (env.WECHATPAY_PUBLIC_KEY_FILE) {
      const pem = readable(env.WECHATPAY_PUBLIC_KEY_FILE);
      let ok = false;
      if (!(pem instanceof Error)) {
        try {
          const k = crypto.createPublicKey(pem);
          ok = k.asymmetricKeyType === 'rsa';
        } catch {
          ok = false;
        }
      }
      if (ok) pass('WeChat Pay public key', 'RSA public key');
      else
        fail(
          'WeChat Pay public key',
          pem instanceof Error ? pem.message : `${env.WECHATPAY_PUBLIC_KEY_FILE} is not a PEM public key`,
          'download pub_key.pem from the merchant console (API安全 → 微信支付公钥)',
        );
    }
  }
  if (v2 || env.WECHATPAY_APIV2_KEY !== undefined) {
    const key = env.WECHATPAY_APIV2_KEY ?? '';
    if (/^[0-9A-Za-z]{32}$/.test(key)) pass('APIv2 key', '32 letters and digits');
    else
      fail(
        'APIv2 key',
        `${Buffer.byteLength(key)} bytes${/[^0-9A-Za-z]/.test(key) ? ', with characters other than letters and digits' : ''}`,
        'WECHATPAY_APIV2_KEY is the 32-character APIv2 key (API密钥) from the merchant console',
      );
  }

  // 3. Addresses.
  if (env.WECHATPAY_NOTIFY_URL) {
    const p = notifyUrlProblem(env.WECHATPAY_NOTIFY_URL, { sandbox });
    if (p)
      fail(
        'Notify URL',
        `${env.WECHATPAY_NOTIFY_URL} ${p}`,
        'use https://<your public domain>/api/wechatpay/notify, with no port, query or fragment',
      );
    else pass('Notify URL', env.WECHATPAY_NOTIFY_URL);
  } else fail('Notify URL', 'WECHATPAY_NOTIFY_URL is not set', 'set it to https://<your public domain>/api/wechatpay/notify');
  const bases = {
    WECHAT_API_BASE: String(e.WECHAT_API_BASE ?? 'https://api.weixin.qq.com'),
    WECHATPAY_API_BASE: String(e.WECHATPAY_API_BASE ?? 'https://api.mch.weixin.qq.com'),
  };
  for (const [k, url] of Object.entries(bases)) {
    let p: string | null;
    try {
      p = apiBaseProblem(url, { sandbox });
    } catch {
      p = 'is not a URL';
    }
    if (p) fail(k, `${url} ${p}`, `unset ${k} (WeChat's own address is the default)`);
    else pass(k, url.startsWith('http:') ? `${url} (plain http: allowed for the local sandbox only)` : url);
  }

  // 4. WeChat Pay itself: reachable, our clock agrees with its Date header, and a signed call is answered.
  const base = bases.WECHATPAY_API_BASE;
  let reachable = false;
  try {
    const res = await httpCall(base, { method: 'GET', timeoutMs: o.timeoutMs ?? 5000 });
    reachable = true;
    pass('WeChat Pay reachable', `${base} answered ${res.status}`);
    const date = res.header('date');
    if (date) {
      const skew = (clock.now() - Date.parse(date)) / 1000;
      if (Math.abs(skew) < CLOCK_TOLERANCE_S) pass('Clock', `within ${Math.max(1, Math.ceil(Math.abs(skew)))} s of WeChat Pay's`);
      else
        fail(
          'Clock',
          `${skew > 0 ? 'ahead of' : 'behind'} WeChat Pay's by ${Math.round(Math.abs(skew))} s`,
          `synchronize this machine's clock (NTP: \`timedatectl set-ntp true\`); WeChat Pay refuses requests ${MAX_SKEW_S} s off, and this server refuses notifications as old`,
        );
    } else
      fail('Clock', 'WeChat Pay sent no Date header', 'check that WECHATPAY_API_BASE is WeChat Pay and not a proxy that strips headers');
  } catch (err) {
    fail(
      'WeChat Pay reachable',
      `${base}: ${(err as Error).message}`,
      'check DNS, the firewall and any outbound proxy from this machine to WeChat Pay',
    );
  }
  let signedOk = false;
  if (configProblems.length === 0 && reachable) {
    const reference = `DOCTOR${clock.now()}${crypto.randomBytes(4).toString('hex')}`.slice(0, 32);
    try {
      const providers = createProviders(loadConfig(env), clock);
      const found = await providers.payments.query(reference);
      if (found === null) signedOk = true;
      if (found === null)
        pass(
          'Signed call',
          `WeChat Pay verified our signature and answered ORDER_NOT_EXIST for ${reference}${v2 ? '' : ', and its answer verified with our WeChat Pay key'}`,
        );
      else fail('Signed call', `WeChat Pay knows ${reference}`, 'this cannot happen for a made-up reference: check WECHATPAY_API_BASE');
    } catch (err) {
      const code = err instanceof PaymentProviderError ? err.providerCode : null;
      const message = (err as Error).message;
      const fix =
        code === 'SIGN_ERROR' || /sign/i.test(code ?? '')
          ? v2
            ? 'WECHATPAY_APIV2_KEY (and WECHATPAY_V2_SIGN_TYPE) must be the ones set in the merchant console'
            : "WeChat Pay refused our signature: WECHATPAY_PRIVATE_KEY_FILE and WECHATPAY_CERT_SERIAL must be the merchant API certificate's key and serial"
          : /trusted|verif/i.test(message)
            ? "WeChat Pay's answer did not verify: WECHATPAY_PUBLIC_KEY_FILE and WECHATPAY_PUBLIC_KEY_ID (or the platform certificates) must be current"
            : 'read the message: it is what WeChat Pay answered';
      fail('Signed call', `${code ? `${code}: ` : ''}${message}`, fix);
    }
  } else
    fail(
      'Signed call',
      configProblems.length ? 'skipped: fix the configuration first' : 'skipped: WeChat Pay is not reachable',
      'fix the checks above, then run the doctor again',
    );
  // 4a. WeChat Pay's platform certificates (v3): downloaded as the server does, each one's expiry.
  if (signedOk && !v2) {
    const providers = createProviders(loadConfig(env), clock);
    const keeper = providers.certificates!;
    const got = await keeper.refresh();
    if (!got.ok) fail('Platform certificates', got.detail, 'the server downloads them from /v3/certificates: read the message');
    else if (keeper.status().publicKeyOnly)
      pass('Platform certificates', 'none: this merchant verifies with the WeChat Pay public key alone');
    else
      for (const c of keeper.certificates())
        expiry(
          `Platform certificate ${c.serial}`,
          c.notAfter,
          'WeChat lists the next certificate 24 h before it is used and the server downloads it (WECHATPAY_CERT_REFRESH_HOURS); if no newer one is listed, move to the WeChat Pay public key (商户平台 → API安全)',
        );
  }
  // 4c. Complaint notifications (WeChat Pay, v3): registered at this server's URL.
  if (signedOk && !v2 && env.WECHATPAY_NOTIFY_URL) {
    const expected = env.WECHATPAY_NOTIFY_URL.replace(NOTIFY_PATH, COMPLAINTS_PATH);
    try {
      const url = await createProviders(loadConfig(env), clock).complaints.notificationUrl();
      if (url === expected) pass('Complaint notifications', `WeChat Pay sends complaints to ${url}`);
      else
        fail(
          'Complaint notifications',
          url ? `WeChat Pay sends complaints to ${url}, not ${expected}` : 'no complaint notification URL is registered with WeChat Pay',
          'the server registers it at start; or PUT /api/admin/complaints/notification-url (the reconciler still re-reads complaints meanwhile)',
        );
    } catch (err) {
      fail('Complaint notifications', (err as Error).message, 'read the message: it is what WeChat Pay answered');
    }
  }
  // 4b. The daily books: yesterday's bill can be asked for (only the request and the first line are read).
  if (signedOk) {
    const yesterday = beijingDate(clock.now() - 86_400_000);
    try {
      const providers = createProviders(loadConfig(env), clock);
      const bill = await providers.payments.dayBill(yesterday);
      if (bill.state === 'READY') {
        const it = bill.entries[Symbol.asyncIterator]();
        await it.next();
        await it.return?.();
        pass('Bill download', `WeChat Pay's bill for ${yesterday} can be downloaded`);
      } else if (bill.state === 'NONE') pass('Bill download', `WeChat Pay answered that ${yesterday} has no bill (no trade that day)`);
      else pass('Bill download', `the bill for ${yesterday} is not generated yet (WeChat writes it from about 10:00 Beijing time)`);
    } catch (err) {
      const code = err instanceof PaymentProviderError ? err.providerCode : null;
      fail(
        'Bill download',
        `${code ? `${code}: ` : ''}${(err as Error).message}`,
        code === 'NO_AUTH'
          ? 'this merchant may not download bills with these keys: check the API permissions in the merchant console'
          : "the daily books cannot read WeChat Pay's bill: read the message; BOOKS_LOOKBACK_DAYS=0 turns them off",
      );
    }
  }
  // 5b. Subscribe-message templates: each configured id is one of the mini program's, with the keywords mapped.
  if (configProblems.length === 0) {
    const config = loadConfig(env);
    const configured = Object.entries(config.subscribe.templates);
    if (configured.length === 0) pass('Subscribe templates', 'none configured: no subscribe message is asked for or sent');
    else {
      try {
        const api = createShippingApi({
          baseUrl: bases.WECHAT_API_BASE,
          appid: String(env.WECHAT_APPID),
          appSecret: String(env.WECHAT_APP_SECRET),
          timeoutMs: o.timeoutMs,
        });
        const list =
          ((await api.get('/wxaapi/newtmpl/gettemplate')).data as { priTmplId: string; title: string; content: string }[] | undefined) ??
          [];
        for (const [kind, t] of configured) {
          const found = list.find((x) => x.priTmplId === t!.id);
          const missing = found ? Object.values(t!.keywords).filter((k) => !found.content.includes(`{{${k}.DATA}}`)) : [];
          if (!found)
            fail(
              `Subscribe template ${kind}`,
              `${t!.id} is not one of this mini program's templates`,
              `set SUBSCRIBE_TEMPLATE_${kind.toUpperCase()} to a priTmplId from 订阅消息 → 我的模板 in the admin console`,
            );
          else if (missing.length)
            fail(
              `Subscribe template ${kind}`,
              `${found.title} has no keyword ${missing.join(', ')}`,
              `set SUBSCRIBE_KEYWORDS_${kind.toUpperCase()} to the template's keywords (its content: ${found.content.replace(/\n/g, ' ')})`,
            );
          else
            pass(
              `Subscribe template ${kind}`,
              `${found.title}: ${Object.entries(t!.keywords)
                .map(([f, k]) => `${f}→${k}`)
                .join(', ')}`,
            );
        }
      } catch (err) {
        fail(
          'Subscribe templates',
          (err as Error).message,
          'the template list could not be read: check WECHAT_APPID and WECHAT_APP_SECRET (the access token check below)',
        );
      }
    }
  }
  // 5. The mini program's side: an access token proves the appid and AppSecret (shipping needs it).
  if (configProblems.length === 0) {
    try {
      const tokens = createAccessTokens({
        baseUrl: bases.WECHAT_API_BASE,
        appid: String(env.WECHAT_APPID),
        appSecret: String(env.WECHAT_APP_SECRET),
        timeoutMs: o.timeoutMs,
      });
      await tokens.call(async () => ({ errcode: 0 }));
      pass('Access token', 'stable_token answered for WECHAT_APPID and WECHAT_APP_SECRET');
    } catch (err) {
      const code = err instanceof WechatApiError ? err.errcode : null;
      const fix =
        code === 40125 || code === 40001
          ? 'WECHAT_APP_SECRET is wrong: reset it in the mini program admin console (开发管理 → 开发设置) and set it again'
          : code === 40013
            ? 'WECHAT_APPID is not a mini program appid'
            : code === 40164 || code === 89506 || code === 89507
              ? "add this server's outbound IP to the API IP whitelist in the admin console"
              : 'read the message: it is what WeChat answered';
      fail('Access token', (err as Error).message, fix);
    }
  }
  return checks;
}

export function formatChecks(checks: Check[]): string {
  return checks
    .map((c) => (c.ok ? `✓ ${c.name}${c.detail ? ` — ${c.detail}` : ''}` : `✗ ${c.name} — ${c.detail}\n    fix: ${c.fix}`))
    .join('\n');
}
