// What an operator meets: `npm start` (the launcher) and `npm run serve` (the production entry),
// run as processes with the environment an operator would give them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { describe, expect, it } from 'vitest';
import { credentialsOf, tempDir } from './helpers';
import { httpJson } from './system-process';

const root = path.resolve(__dirname, '../..');
const WECHAT_VARIABLES = [
  'WECHAT_APPID',
  'WECHAT_APP_SECRET',
  'WECHATPAY_MCHID',
  'WECHATPAY_PRIVATE_KEY_FILE',
  'WECHATPAY_CERT_SERIAL',
  'WECHATPAY_APIV3_KEY',
  'WECHATPAY_NOTIFY_URL',
];

interface Run {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs a script until it exits, or until `until` matches its output (then stops it). */
function run(script: string, env: Record<string, string>, until?: RegExp): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(WECHAT|SANDBOX|NODE_ENV|HOST|PORT|UNSAFE)/.test(k)));
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...clean, DATA_DIR: tempDir('launcher-'), PORT: '0', SANDBOX_PORT: '0', SERVE_CLIENT: 'off', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const onData = (d: Buffer) => {
      output += d;
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: performance.now() - started });
    });
  });
}

describe('npm start (the launcher)', () => {
  it('in production without WeChat variables: exits non-zero within seconds, naming each missing variable', async () => {
    const r = await run('scripts/start.ts', { NODE_ENV: 'production' });
    expect(r.code).toBe(2);
    expect(r.ms).toBeLessThan(10_000);
    for (const k of WECHAT_VARIABLES) expect(r.output).toContain(k);
    expect(r.output).toMatch(/will not fall back to the local sandbox in production/);
    expect(r.output).not.toMatch(/^API /m);
  });

  it('on a public interface without the opt-in: exits non-zero and says why', async () => {
    const r = await run('scripts/start.ts', { HOST: '0.0.0.0' });
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/HOST=0\.0\.0\.0 is not a loopback address.*anyone who reaches it pay any order/s);
    expect(r.output).not.toMatch(/^(API|Sandbox) /m);
  });

  it('with the opt-in: starts, and warns of the risk', async () => {
    const r = await run('scripts/start.ts', { HOST: '0.0.0.0', UNSAFE_ALLOW_SANDBOX: 'true' }, /^API /m);
    expect(r.output).toMatch(/WARNING: UNSAFE_ALLOW_SANDBOX is set/);
    expect(r.output).toMatch(/^Sandbox +http:\/\/0\.0\.0\.0:\d+/m);
  });

  it('by default: starts the sandbox and hands its credentials over in sandbox.env and PEM files, keeping its own secret', async () => {
    const dataDir = tempDir('launcher-ok-');
    let api = '';
    const r = await run('scripts/start.ts', { DATA_DIR: dataDir }, /^API +http:\/\/[^/]+\/api/m);
    api = /^API +(http:\/\/[^/\s]+)\/api/m.exec(r.output)![1]!;
    expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const env = util.parseEnv(fs.readFileSync(path.join(dataDir, 'sandbox', 'sandbox.env'), 'utf8')) as Record<string, string>;
    for (const k of [
      ...WECHAT_VARIABLES,
      'WECHATPAY_PUBLIC_KEY_FILE',
      'WECHATPAY_PUBLIC_KEY_ID',
      'WECHAT_API_BASE',
      'WECHATPAY_API_BASE',
      'SANDBOX_URL',
    ])
      expect(env[k], k).toBeTruthy();
    expect(env.WECHATPAY_NOTIFY_URL).toBe(`${api}/api/wechatpay/notify`);
    expect(fs.readFileSync(env.WECHATPAY_PRIVATE_KEY_FILE!, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
    expect(fs.statSync(env.WECHATPAY_PRIVATE_KEY_FILE!).mode & 0o777).toBe(0o600);
    // The sandbox's own secret (WeChat Pay's signing key) is not handed over.
    expect(fs.readFileSync(path.join(dataDir, 'sandbox', 'sandbox.env'), 'utf8')).not.toMatch(/PRIVATE KEY|platformPrivateKey/);
  });
});

describe('npm run serve (the production entry)', () => {
  it('without WeChat variables: exits non-zero before listening, naming each missing variable', async () => {
    const r = await run('server/src/main.ts', { NODE_ENV: 'production' });
    expect(r.code).toBe(2);
    for (const k of WECHAT_VARIABLES) expect(r.output).toContain(`${k}: required`);
    expect(r.output).not.toMatch(/^API /m);
  });

  it('never starts a sandbox itself, even with sandbox credentials', async () => {
    const dataDir = tempDir('serve-');
    // Credentials from a sandbox that has since stopped.
    const first = await run('scripts/start.ts', { DATA_DIR: dataDir }, /^API /m);
    expect(first.output).toMatch(/^Sandbox /m);
    const env = credentialsOf(dataDir);
    let api = '';
    let status = 0;
    await run('server/src/main.ts', { ...env, DATA_DIR: dataDir }, /^API +http:\/\/\S+\/api/m).then((r) => {
      api = /^API +(http:\/\/[^/\s]+)\/api/m.exec(r.output)?.[1] ?? '';
      expect(r.output).not.toMatch(/^Sandbox /m);
      expect(r.output).toMatch(/^WeChat +the local sandbox/m);
    });
    expect(api).not.toBe('');
    status = (await httpJson('GET', `${env.SANDBOX_URL}/sandbox/controls`).catch(() => ({ status: -1 }))).status;
    expect(status).toBe(-1); // nobody listens where the sandbox was
  });
});
