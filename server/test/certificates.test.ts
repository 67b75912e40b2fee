// Keys that look after themselves: WeChat Pay's platform certificates downloaded, verified with a certificate of
// their own list, rotated while payments go on, mixed with the public key in the switch week, cached for a
// restart during an outage; a tampered list refused with the old certificates kept; a public-key-only merchant
// running without errors. End to end against the sandbox over real sockets, and the keeper on its own.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNotification } from '../../sandbox/notify';
import { generatePlatformCertificate } from '../../sandbox/keys';
import { loadConfig } from '../src/config';
import { doctorEnv, runDoctor } from '../src/doctor';
import { createCertificateKeeper, decryptCertificate, type SignedAnswer } from '../src/wechatpay/certificates';
import { aesGcmEncrypt, randomNonce, responseMessage, rsaSign } from '../src/wechatpay/crypto';
import { createProviders } from '../src/wiring';
import { credentialsOf, opsCookie, startTestSystem, waitFor, type TestSystem } from './helpers';
import crypto from 'node:crypto';

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/wechat/test-vectors.json'), 'utf8')) as {
  sdk_vectors: {
    name: string;
    key_utf8: string;
    nonce_utf8: string;
    aad_utf8: string;
    ciphertext_b64: string;
    expect: Record<string, string>;
  }[];
};

const quiet = {
  lines: [] as string[],
  info() {},
  warn() {},
  error(_f: unknown, m: string) {
    quiet.lines.push(m);
  },
};

/** A /v3/certificates answer as WeChat writes one: each certificate encrypted, the answer signed by `signer`. */
function certificateAnswer(
  pems: string[],
  apiV3Key: string,
  signer: { serial: string; privateKeyPem: string },
  nowMs = Date.now(),
): SignedAnswer {
  const body = JSON.stringify({
    data: pems.map((pem) => {
      const nonce = randomNonce(12);
      const serial = new crypto.X509Certificate(pem).serialNumber;
      return {
        serial_no: serial,
        encrypt_certificate: {
          algorithm: 'AEAD_AES_256_GCM',
          nonce,
          associated_data: 'certificate',
          ciphertext: aesGcmEncrypt(apiV3Key, nonce, 'certificate', pem),
        },
      };
    }),
  });
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = randomNonce(32);
  return {
    body,
    serial: signer.serial,
    timestamp,
    nonce,
    signature: rsaSign(crypto.createPrivateKey(signer.privateKeyPem), responseMessage(timestamp, nonce, body)),
  };
}

describe('the certificate keeper', () => {
  const apiV3Key = randomNonce(32);
  let a: { pem: string; privateKeyPem: string; serial: string };
  let b: { pem: string; privateKeyPem: string; serial: string };
  beforeAll(async () => {
    const make = async (days: number) => {
      const c = await generatePlatformCertificate('1900000109', Date.now(), days);
      return { ...c, serial: new crypto.X509Certificate(c.pem).serialNumber.toUpperCase() };
    };
    [a, b] = await Promise.all([make(365), make(2)]);
  });

  it("decrypts the Java SDK's published certificate download", () => {
    const v = vectors.sdk_vectors.find((x) => x.name === 'certificates_download_decrypt_java')!;
    const pem = decryptCertificate(v.key_utf8, {
      algorithm: 'AEAD_AES_256_GCM',
      nonce: v.nonce_utf8,
      associated_data: v.aad_utf8,
      ciphertext: v.ciphertext_b64,
    });
    expect(new crypto.X509Certificate(pem).serialNumber.toUpperCase()).toBe(v.expect.serial_no);
  });

  it('takes a list signed by one of its own certificates, and refuses one signed otherwise or encrypted with another key, keeping the old', async () => {
    let answer = certificateAnswer([a.pem], apiV3Key, a);
    const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'keeper-'));
    const keeper = createCertificateKeeper({
      fetch: async () => ({ kind: 'LIST', answer }),
      apiV3Key,
      now: Date.now,
      log: quiet,
      cacheFile: path.join(dir, 'certs.json'),
    });
    expect((await keeper.refresh()).ok).toBe(true);
    expect(keeper.key(a.serial)).not.toBeNull();
    // Signed by a stranger claiming the certificate's serial: refused whole.
    const stranger = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    answer = certificateAnswer([a.pem, b.pem], apiV3Key, { serial: b.serial, privateKeyPem: stranger });
    expect(await keeper.refresh()).toMatchObject({ ok: false, detail: expect.stringMatching(/not signed as WeChat Pay signs/) });
    // Encrypted with another APIv3 key: the GCM tag fails; refused whole.
    answer = certificateAnswer([a.pem, b.pem], randomNonce(32), b);
    expect(await keeper.refresh()).toMatchObject({ ok: false, detail: expect.stringMatching(/did not decrypt/) });
    // A stale answer (a replay): refused.
    answer = certificateAnswer([a.pem, b.pem], apiV3Key, b, Date.now() - 10 * 60_000);
    expect(await keeper.refresh()).toMatchObject({ ok: false, detail: expect.stringMatching(/more than 5 minutes/) });
    expect(keeper.certificates().map((c) => c.serial)).toEqual([a.serial]);
    expect(keeper.key(b.serial)).toBeNull();
    // The genuine list: both held, and cached for the next start.
    answer = certificateAnswer([a.pem, b.pem], apiV3Key, b);
    expect((await keeper.refresh()).ok).toBe(true);
    expect(
      keeper
        .certificates()
        .map((c) => c.serial)
        .sort(),
    ).toEqual([a.serial, b.serial].sort());
    const offline = createCertificateKeeper({
      fetch: async () => {
        throw new Error('unreachable');
      },
      apiV3Key,
      now: Date.now,
      log: quiet,
      cacheFile: path.join(dir, 'certs.json'),
    });
    expect(offline.key(b.serial)).not.toBeNull();
    // Three days on, the two-day certificate has expired: dropped, and nothing it signs verifies.
    const later = () => Date.now() + 3 * 86_400_000;
    const aged = createCertificateKeeper({
      fetch: async () => ({ kind: 'LIST', answer }),
      apiV3Key,
      now: later,
      log: quiet,
      cacheFile: path.join(dir, 'certs.json'),
    });
    expect(aged.key(b.serial)).toBeNull();
    expect(aged.key(a.serial)).not.toBeNull();
    // WeChat stops listing a certificate (expired early, revoked): the next genuine list drops it.
    answer = certificateAnswer([b.pem], apiV3Key, b);
    expect((await keeper.refresh()).ok).toBe(true);
    expect(keeper.key(a.serial)).toBeNull();
    expect(keeper.certificates().map((c) => c.serial)).toEqual([b.serial]);
  });

  it('asks again for an unknown serial at most once a minute, and a public-key-only merchant is no error', async () => {
    let fetched = 0;
    let now = Date.now();
    const keeper = createCertificateKeeper({
      fetch: async () => {
        fetched += 1;
        return { kind: 'NONE', message: '无可用的平台证书' };
      },
      apiV3Key,
      now: () => now,
      log: quiet,
      cacheFile: null,
    });
    quiet.lines.length = 0;
    expect(await keeper.refreshFor('ABC')).toBe(false);
    expect(await keeper.refreshFor('ABC')).toBe(false);
    expect(fetched).toBe(1);
    now += 60_001;
    await keeper.refreshFor('ABC');
    expect(fetched).toBe(2);
    expect(keeper.status()).toMatchObject({ publicKeyOnly: true });
    expect(quiet.lines).toEqual([]); // nothing logged as an error
  });
});

describe('certificate mode end to end (SANDBOX_SIGNING=certificate): the server is handed no WeChat Pay key', () => {
  let sys: TestSystem;
  const sandbox = (p: string, body?: unknown) =>
    sys.request(body === undefined ? 'GET' : 'POST', `${sys.sandboxUrl}/sandbox${p}`, { body });
  beforeAll(async () => {
    sys = await startTestSystem({
      env: { SANDBOX_SIGNING: 'certificate', RECONCILE_INTERVAL_SECONDS: '0' },
      system: { controls: { timeScale: 0.001 } },
    });
  });
  afterAll(() => sys.close());

  it('downloads the certificates at start, then a rotation mid-stream loses no payment, without a restart', async () => {
    const env = credentialsOf(sys.dataDir);
    expect(env.WECHATPAY_PUBLIC_KEY_FILE).toBeUndefined();
    expect(env.WECHATPAY_PLATFORM_CERT_FILES).toBeUndefined();
    const before = (await sandbox('/certificates')).body;
    expect(before.signing).toMatch(/^[0-9A-F]+$/);
    const cached = JSON.parse(fs.readFileSync(path.join(sys.dataDir, 'wechatpay', 'platform-certificates.json'), 'utf8'));
    expect(cached.certificates).toHaveLength(1);

    const paidBefore = await Promise.all([sys.paidOrder(), sys.paidOrder()]);
    const waiting = await sys.checkout(await sys.login()); // to be paid after the rotation
    // A new certificate, listed and signed with from now on (the 24-hour notice compressed).
    const rotated = await sandbox('/controls', { rotateCertificate: true });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.rotated.serial as string;
    expect((await sandbox('/certificates')).body.signing).toBe(fresh);
    // The first message the new certificate signs is a notification: the server fetches the list and applies it.
    expect((await sys.pay(waiting.payment)).body.errMsg).toBe('requestPayment:ok');
    await waitFor(async () => (await sys.server.store.findOrder(waiting.order.id))?.status === 'PAID');
    const first = ((await sandbox('/deliveries')).body.deliveries as { outTradeNo: string; serial: string; status: number }[]).filter(
      (d) => d.outTradeNo === waiting.order.outTradeNo,
    );
    expect(first).toEqual([expect.objectContaining({ serial: fresh, status: 204 })]);
    const paidAfter = await Promise.all(Array.from({ length: 5 }, () => sys.paidOrder()));
    for (const { order } of [...paidBefore, ...paidAfter]) expect((await sys.server.store.findOrder(order.id))!.status).toBe('PAID');
    // Every notification after the rotation was signed by the new certificate, and verified.
    const deliveries = (await sandbox('/deliveries')).body.deliveries as { serial?: string; status: number }[];
    expect(deliveries.every((d) => d.status === 204)).toBe(true);
    expect(sys.logs.join('')).toMatch(/platform certificates downloaded/);
    // The old certificate expires: no longer listed, nothing lost.
    await sandbox('/controls', { expireCertificate: before.signing });
    const { order } = await sys.paidOrder();
    expect((await sys.server.store.findOrder(order.id))!.status).toBe('PAID');
    expect((await sandbox('/certificates')).body.certificates.filter((c: { listed: boolean }) => c.listed)).toHaveLength(1);
  });

  it("shows each certificate's expiry to the operator: the ops page, the metric, the doctor", async () => {
    const signing = (await sandbox('/certificates')).body.signing as string;
    const cookie = await opsCookie(sys.api, sys.adminToken);
    const page = await (await fetch(`${sys.api}/admin`, { headers: { Cookie: cookie } })).text();
    expect(page).toContain('微信支付平台证书');
    expect(page).toContain(signing);
    expect(page).toMatch(/到期（\d+ 天）/);
    const metrics = await (await fetch(`${sys.api}/metrics`, { headers: { Authorization: `Bearer ${sys.adminToken}` } })).text();
    expect(metrics).toMatch(new RegExp(`wechatpay_certificate_days_left\\{serial="${signing}",kind="platform"\\} \\d+`));
    const checks = await runDoctor(doctorEnv({ DATA_DIR: sys.dataDir }).env);
    expect(checks.find((c) => c.name === `Platform certificate ${signing}`)).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^valid until/),
    });
  });

  it('a restart while WeChat Pay is unreachable still verifies, with the cached certificates', async () => {
    const env = { ...credentialsOf(sys.dataDir), DATA_DIR: sys.dataDir, WECHATPAY_API_BASE: 'http://127.0.0.1:9', PORT: '0' };
    const providers = createProviders(loadConfig(env));
    expect((await providers.certificates!.refresh()).ok).toBe(false);
    const signing = (await sandbox('/certificates')).body.signing as string;
    expect(providers.certificates!.key(signing)).not.toBeNull();
    // A notification as the sandbox signs it now verifies in the restarted process.
    const signer = sys.sandbox.signer();
    expect(signer.serial).toBe(signing);
    const keys = JSON.parse(fs.readFileSync(path.join(sys.dataDir, 'sandbox', 'keys.json'), 'utf8'));
    const n = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer,
      transaction: {
        appid: keys.appid,
        mchid: keys.mchid,
        out_trade_no: 'RESTART0001',
        transaction_id: '4200000000000000000000000001',
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        success_time: '2026-12-01T10:00:00+08:00',
        payer: { openid: 'o' },
        amount: { total: 1, currency: 'CNY' },
      },
    });
    const headers = Object.fromEntries(Object.entries(n.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const parsed = providers.payments.parseNotification({ headers, body: Buffer.from(n.body) });
    expect(parsed.ok).toBe(true);
  });
});

describe('a tampered certificate list (SANDBOX_SIGNING=certificate)', () => {
  let sys: TestSystem;
  const sandbox = (p: string, body?: unknown) =>
    sys.request(body === undefined ? 'GET' : 'POST', `${sys.sandboxUrl}/sandbox${p}`, { body });
  beforeAll(async () => {
    sys = await startTestSystem({ env: { SANDBOX_SIGNING: 'certificate', RECONCILE_INTERVAL_SECONDS: '0' } });
  });
  afterAll(() => sys.close());

  it('a tampered list is refused and the certificates held stay in use', async () => {
    const cacheFile = path.join(sys.dataDir, 'wechatpay', 'platform-certificates.json');
    const cachedBefore = fs.readFileSync(cacheFile, 'utf8');
    await sandbox('/controls', { tamperCertificates: 'signature', rotateCertificate: true });
    // The sandbox now signs with a certificate only its tampered list names: the server refuses the list, so the
    // answer to this checkout cannot be trusted (502, the order kept for a Retry), and nothing new is cached.
    const token = await sys.login();
    const res = await sys.request('POST', '/api/orders', { token, body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] } });
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('WECHATPAY_UNREACHABLE');
    expect(sys.logs.join('')).toMatch(/platform certificate list refused; the certificates held stay in use/);
    expect(fs.readFileSync(cacheFile, 'utf8')).toBe(cachedBefore);
  });
});

describe('the switch week (SANDBOX_SIGNING=switch): callbacks signed by either key, the server holding both', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({
      env: { SANDBOX_SIGNING: 'switch', RECONCILE_INTERVAL_SECONDS: '0' },
      system: { controls: { timeScale: 0.001, switchShare: 0.5 } },
    });
  });
  afterAll(() => sys.close());

  it('loses nothing while notifications come signed by the public key and by the certificate', async () => {
    expect(credentialsOf(sys.dataDir).WECHATPAY_PUBLIC_KEY_ID).toMatch(/^PUB_KEY_ID_/);
    const paid = await Promise.all(Array.from({ length: 16 }, () => sys.paidOrder()));
    for (const { order } of paid) expect((await sys.server.store.findOrder(order.id))!.status).toBe('PAID');
    const serials = new Set(
      ((await sys.request('GET', `${sys.sandboxUrl}/sandbox/deliveries`)).body.deliveries as { serial: string }[]).map((d) => d.serial),
    );
    expect([...serials].some((s) => s.startsWith('PUB_KEY_ID_'))).toBe(true);
    expect([...serials].some((s) => /^[0-9A-F]+$/.test(s))).toBe(true);
  });
});

describe('a public-key-only merchant (the default): /v3/certificates says none exists, and nothing complains', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' } });
  });
  afterAll(() => sys.close());

  it('pays with the public key alone and logs no certificate error', async () => {
    const { order } = await sys.paidOrder();
    expect((await sys.server.store.findOrder(order.id))!.status).toBe('PAID');
    expect(sys.logs.join('')).not.toMatch(/certificate/i);
    await waitFor(async () => true);
  });
});
