// The ops page in Debian's chromium: an operator signs in, finds a paid order with the filters, refunds
// part of it, and reconciles. Screenshots go to test-results/e2e/.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystemProcess, type SystemProcess } from '../server/test/system-process';

const root = path.resolve(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = path.join(root, 'test-results/e2e');
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`CI needs chromium at ${CHROMIUM} (.ci/run installs it with apt)`);
if (!hasChromium) console.log(`[skip] ops page in a browser: no chromium at ${CHROMIUM}`);

describe.skipIf(!hasChromium)('the ops page in a browser', () => {
  let sys: SystemProcess;
  let browser: Browser;
  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true });
    sys = await startSystemProcess({ SERVE_CLIENT: 'off' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  it('signs in, finds a paid order, refunds ¥10.00 of it, and reconciles', async () => {
    // A paid order and a pending one, made through the API as shoppers would.
    const paid = await sys.paidOrder();
    await sys.checkout(await sys.login('another'));

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${sys.api}/admin`);
    await expect.poll(() => page.url()).toMatch(/\/admin\/login$/);
    await page.fill('input[name=token]', 'not the token');
    await page.click('button[type=submit]');
    await page.getByText('管理令牌不正确').waitFor();
    await page.fill('input[name=token]', sys.adminToken);
    await page.click('button[type=submit]');
    await page.getByText('每小时下单（近 24 小时）').waitFor();
    // Both orders are listed; the filter keeps the paid one.
    expect(await page.locator('table >> text=已支付').count()).toBe(1);
    expect(await page.locator('table >> text=待支付').count()).toBe(1);
    await page.selectOption('select[name=status]', 'PAID');
    await page.getByRole('button', { name: '筛选' }).click();
    await expect.poll(() => page.url()).toContain('status=PAID');
    expect(await page.locator('table >> text=待支付').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'ops-orders.png'), fullPage: true });

    await page.getByRole('link', { name: paid.order.outTradeNo }).click();
    await page.getByRole('heading', { name: '退款' }).waitFor();
    await page.fill('input[name=amount]', '10.00');
    await page.fill('input[name=reason]', '运营测试');
    await page.getByRole('button', { name: '退款', exact: true }).click();
    await page.getByRole('status').filter({ hasText: '退款 ¥10.00' }).waitFor();
    expect(await page.locator('table >> text=¥10.00').count()).toBeGreaterThan(0);
    // The notification for the payment is on the page, with WeChat's Request-ID.
    expect(await page.locator('td:has-text("APPLIED")').count()).toBe(1);
    await page.screenshot({ path: path.join(shots, 'ops-order-refunded.png'), fullPage: true });
    const detail = await sys.admin('GET', `/orders/${paid.order.id}`);
    expect(detail.body.refunds.map((r: { amount: number }) => r.amount)).toEqual([1000]);

    await page.goto(`${sys.api}/admin`);
    await page.getByRole('button', { name: /立即对账/ }).click();
    await page.getByText(/对账完成：检查 \d+ 笔/).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('renders the API document at /api/docs: every operation of /api/openapi.json, nothing from another origin', async () => {
    const doc = (await sys.http('GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => !r.url().startsWith(sys.api) && !r.url().startsWith('data:') && foreign.push(r.url()));
    await page.goto(`${sys.api}/api/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/api/orders/{id}/payment' }).waitFor();
    expect(await page.locator('.opblock').count()).toBe(operations);
    await page.screenshot({ path: path.join(shots, 'api-docs.png') });
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  });
});
