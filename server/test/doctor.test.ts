// npm run doctor: passes on the sandbox `npm start` sets up, and names the fix for each broken setting.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorEnv, runDoctor, type Check } from '../src/doctor';
import { startTestSystem, tempDir, type TestSystem } from './helpers';

let sys: TestSystem;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  sys = await startTestSystem({ env: { RECONCILE_INTERVAL_SECONDS: '0' } });
  env = doctorEnv({ DATA_DIR: sys.dataDir }).env;
});
afterAll(() => sys.close());

const failed = (checks: Check[]) => checks.filter((c) => !c.ok);
const named = (checks: Check[], name: string) => checks.find((c) => c.name === name)!;

describe('npm run doctor', () => {
  it("passes on the sandbox's own configuration, ending with a signed call WeChat Pay answers", async () => {
    const checks = await runDoctor(env);
    expect(failed(checks)).toEqual([]);
    expect(named(checks, 'Signed call').detail).toMatch(/ORDER_NOT_EXIST/);
    expect(named(checks, 'Certificate serial').ok).toBe(true);
    expect(named(checks, 'Complaint notifications').detail).toMatch(/\/api\/wechatpay\/complaints$/);
    expect(named(checks, 'Subscribe template shipped').detail).toMatch(/^订单发货通知: order→character_string1/);
    // The sandbox had no trade yesterday: no bill, which is an answer, not a failure.
    expect(named(checks, 'Bill download').detail).toMatch(/has no bill|not generated yet/);
  });

  it("a private key that is not the certificate's: the key check and the signed call fail, saying which files go together", async () => {
    const other = path.join(tempDir('doctor-'), 'other_key.pem');
    fs.writeFileSync(other, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const checks = await runDoctor({ ...env, WECHATPAY_PRIVATE_KEY_FILE: other });
    expect(failed(checks).map((c) => c.name)).toEqual(['Key and certificate', 'Signed call']);
    expect(named(checks, 'Key and certificate').fix).toMatch(/apiclient_key\.pem issued together with apiclient_cert\.pem/);
    expect(named(checks, 'Signed call').fix).toMatch(/refused our signature/);
  });

  it('a serial from another certificate: names the right one', async () => {
    const checks = await runDoctor({ ...env, WECHATPAY_CERT_SERIAL: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' });
    const serial = named(checks, 'Certificate serial');
    expect(serial.ok).toBe(false);
    const actual = new crypto.X509Certificate(fs.readFileSync(env.WECHATPAY_CERT_FILE!)).serialNumber;
    expect(serial.fix).toContain(`WECHATPAY_CERT_SERIAL=${actual}`);
    expect(named(checks, 'Signed call').ok).toBe(false);
  });

  it("reports each key's expiry, and warns 30 days ahead", async () => {
    const checks = await runDoctor(env);
    expect(named(checks, 'Merchant certificate expiry')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^valid until \d{4}-\d{2}-\d{2} \(\d+ days\)$/),
    });
    // The sandbox is a public-key merchant: no platform certificate to expire.
    expect(named(checks, 'Platform certificates').detail).toMatch(/WeChat Pay public key alone/);
    const notAfter = Date.parse(new crypto.X509Certificate(fs.readFileSync(env.WECHATPAY_CERT_FILE!)).validTo);
    const soon = await runDoctor(env, { clock: { now: () => notAfter - 10 * 86_400_000 } });
    expect(named(soon, 'Merchant certificate expiry')).toMatchObject({ ok: false, detail: expect.stringMatching(/in (9|10) days/) });
    expect(named(soon, 'Merchant certificate expiry').fix).toMatch(/renew the merchant API certificate/);
  });

  it("a subscribe template that is not the mini program's, or a keyword its template lacks, is named with the fix", async () => {
    const checks = await runDoctor({
      ...env,
      SUBSCRIBE_TEMPLATE_PAID: 'not-a-template-id',
      SUBSCRIBE_KEYWORDS_SHIPPED: 'order:character_string1,item:thing9',
    });
    expect(named(checks, 'Subscribe template paid')).toMatchObject({ ok: false, fix: expect.stringMatching(/SUBSCRIBE_TEMPLATE_PAID/) });
    expect(named(checks, 'Subscribe template shipped')).toMatchObject({ ok: false, detail: expect.stringMatching(/no keyword thing9/) });
  });

  it('an http notify URL outside this machine', async () => {
    const checks = await runDoctor({ ...env, WECHATPAY_NOTIFY_URL: 'http://shop.example.com/api/wechatpay/notify' });
    const notify = named(checks, 'Notify URL');
    expect(notify.ok).toBe(false);
    expect(notify.detail).toMatch(/must use https/);
    expect(notify.fix).toMatch(/https:\/\/<your public domain>\/api\/wechatpay\/notify/);
  });

  it('a wrong AppSecret: no access token, and the fix says where to reset it', async () => {
    const checks = await runDoctor({ ...env, WECHAT_APP_SECRET: '0'.repeat(32) });
    expect(named(checks, 'Access token')).toMatchObject({ ok: false, detail: expect.stringMatching(/40125/) });
    expect(named(checks, 'Access token').fix).toMatch(/WECHAT_APP_SECRET is wrong/);
  });

  it('an APIv3 key that is not 32 bytes', async () => {
    const checks = await runDoctor({ ...env, WECHATPAY_APIV3_KEY: env.WECHATPAY_APIV3_KEY!.slice(0, 31) });
    expect(named(checks, 'APIv3 key')).toMatchObject({ ok: false, detail: '31 bytes' });
    expect(named(checks, 'APIv3 key').fix).toMatch(/exactly 32 bytes/);
  });

  it("a clock 10 minutes off WeChat Pay's Date", async () => {
    const checks = await runDoctor(env, { clock: { now: () => Date.now() + 600_000 } });
    const clock = named(checks, 'Clock');
    expect(clock.ok).toBe(false);
    expect(clock.detail).toMatch(/ahead of WeChat Pay's by (599|600|601) s/);
    expect(clock.fix).toMatch(/NTP/);
  });

  it('as a command: exit 0 and ✓ lines on the sandbox, exit 1 with ✗ and the fix otherwise', async () => {
    // Asynchronously: the sandbox it checks runs in this process.
    const run = (extra: Record<string, string>) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'scripts/doctor.ts'],
          { cwd: path.resolve(__dirname, '../..'), env: { ...process.env, DATA_DIR: sys.dataDir, ...extra } },
          (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
        );
      });
    const ok = await run({});
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^✓ Signed call/m);
    expect(ok.stdout).toMatch(/All \d+ checks passed/);
    const bad = await run({ ...env, WECHATPAY_APIV3_KEY: 'short' } as Record<string, string>);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^✗ APIv3 key — 5 bytes\n {4}fix: /m);
  });
});
