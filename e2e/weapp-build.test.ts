// `taro build --type weapp` must succeed, list the four pages, and keep the main package small.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { taroBuild } from '../scripts/h5-build';

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist/weapp');
/** WeChat's hard limit for the main package is 2 MB; we hold ourselves to 400 KB. */
const BUDGET_BYTES = 400 * 1024;

function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

beforeAll(async () => {
  fs.rmSync(out, { recursive: true, force: true });
  await taroBuild(root, 'weapp', { TARO_APP_API_BASE: 'https://shop.example.com' });
}, 180_000);

describe('weapp build', () => {
  it('refuses a release build that would call plain http, saying how to set the address', async () => {
    const err = await taroBuild(root, 'weapp', { TARO_APP_API_BASE: '', TARO_APP_PAYMENT_MODE: 'wechat' }).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toMatch(/A release build of the mini program needs TARO_APP_API_BASE set to your server's https:\/\/ address/);
    expect(err).toMatch(/npm run dev:weapp/);
    const { buildSettings } = await import('../config/index');
    expect(() => buildSettings({ TARO_ENV: 'weapp', NODE_ENV: 'production', TARO_APP_API_BASE: 'http://127.0.0.1:3000' })).toThrow(/https/);
    expect(buildSettings({ TARO_ENV: 'weapp', NODE_ENV: 'production', TARO_APP_API_BASE: 'https://shop.example.com' })).toMatchObject({
      PAYMENT_MODE: 'wechat',
    });
    // A development build (npm run dev:weapp) talks to this machine's server and sandbox.
    expect(buildSettings({ TARO_ENV: 'weapp', NODE_ENV: 'development' })).toEqual({
      API_BASE: 'http://127.0.0.1:3000',
      PAYMENT_MODE: 'sandbox',
      SANDBOX_BASE: 'http://127.0.0.1:3100',
    });
  });

  it('ships no loopback address in a release build', () => {
    const js = files(out)
      .filter((f) => f.endsWith('.js'))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    expect(js).toContain('https://shop.example.com');
    expect(js).not.toMatch(/127\.0\.0\.1|localhost:3[01]00/);
  });

  it('carries no code that fakes payment: the sandbox payer and login are compiled out of a release build', () => {
    const js = files(out)
      .filter((f) => f.endsWith('.js'))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    expect(js).toContain('requestPayment'); // the real payment call is there…
    for (const trace of ['sandbox/pay', 'sandbox/login', 'sandbox/confirm-receipt', 'sandbox/prepay', '沙箱'])
      expect(js, trace).not.toContain(trace);
  });

  it('uses WeUI 2 styles and a sitemap that keeps checkout pages out of search', () => {
    const app = JSON.parse(fs.readFileSync(path.join(out, 'app.json'), 'utf8'));
    expect(app).toMatchObject({ style: 'v2', sitemapLocation: 'sitemap.json' });
    expect(JSON.parse(fs.readFileSync(path.join(out, 'sitemap.json'), 'utf8')).rules).toEqual([{ action: 'disallow', page: '*' }]);
  });

  it('keeps every tap target at least 44 px on the narrowest phone: rpx scale down, so each has a 44px floor', () => {
    // 88rpx is 44 px on a 375 px phone but 37.5 px on a 320 px one.
    const css = files(out)
      .filter((f) => f.endsWith('.wxss'))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    for (const selector of ['.stepper__btn', '.btn-primary', '.btn-secondary']) {
      const rules = [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)].filter(([, sel]) => sel!.split(',').some((s) => s.trim().endsWith(selector)));
      const body = rules.map((r) => r[2]).join(';');
      expect(body, selector).toMatch(/min-height:44px/i); // Taro keeps PX as written; CSS units ignore case;
      if (selector === '.stepper__btn') expect(body, selector).toMatch(/min-width:44px/i);
    }
  });

  it('lists the four pages in app.json, each with its files', () => {
    const app = JSON.parse(fs.readFileSync(path.join(out, 'app.json'), 'utf8'));
    expect(app.pages).toEqual(['pages/checkout/index', 'pages/result/index', 'pages/orders/index', 'pages/login/index']);
    for (const page of app.pages)
      for (const ext of ['js', 'json', 'wxml']) expect(fs.existsSync(path.join(out, `${page}.${ext}`)), `${page}.${ext}`).toBe(true);
  });

  it('ships a picture file for every product in the catalog (an <image> path, not an inline data URI)', async () => {
    const { SEED_PRODUCTS } = await import('../server/src/domain/catalog');
    const pictures = fs.readdirSync(path.join(out, 'assets/products'));
    expect(pictures).toContain('placeholder.svg');
    const page = fs.readFileSync(path.join(out, 'pages/checkout/index.js'), 'utf8');
    expect(page).not.toContain('data:image/svg');
    expect(SEED_PRODUCTS.length).toBe(pictures.length - 1);
  });

  it('stays under the main-package budget', () => {
    const size = files(out)
      .filter((f) => !f.endsWith('.LICENSE.txt'))
      .reduce((sum, f) => sum + fs.statSync(f).size, 0);
    console.log(`weapp main package: ${(size / 1024).toFixed(1)} KB (budget ${BUDGET_BYTES / 1024} KB, WeChat limit 2048 KB)`);
    expect(size).toBeLessThan(BUDGET_BYTES);
  });

  it('has a project.config.json WeChat DevTools can open, with the tourist appid by default', () => {
    const project = JSON.parse(fs.readFileSync(path.join(out, 'project.config.json'), 'utf8'));
    expect(project).toMatchObject({ compileType: 'miniprogram', appid: process.env.TARO_APP_ID || 'touristappid' });
  });

  it('carries no server code and no key material', () => {
    const bundle = files(out)
      .filter((f) => f.endsWith('.js'))
      .map((f) => fs.readFileSync(f, 'utf8'))
      .join('\n');
    for (const needle of ['better-sqlite3', 'mongoose', 'PRIVATE KEY', 'apiV3Key', 'session_key', 'createSqliteStore'])
      expect(bundle.includes(needle), needle).toBe(false);
    expect(bundle.includes('/api/orders'), 'the bundle searched is the app').toBe(true);
  });
});
