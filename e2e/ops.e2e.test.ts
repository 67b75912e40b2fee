// The ops page in Debian's chromium: an operator signs in, finds a paid order with the filters, refunds
// part of it, and reconciles; reconciles the day's books against WeChat's bill. Screenshots go to
// test-results/e2e/.
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

  it("reconciles today's books from the ops page: the list, one day's discrepancies with links and what to do", async () => {
    // Today's books with one payment WeChat's bill leaves out and one the shop never heard of.
    const kept = await sys.paidOrder('books-kept');
    const omitted = await sys.paidOrder('books-omitted');
    await sys.controls({ billsReadyNow: true });
    const stranger = await sys.http('POST', `${sys.sandbox}/sandbox/books`, {
      body: { omit: [omitted.order.outTradeNo], strangerPayment: { amount: 1234 } },
    });
    expect(stranger.status).toBe(200);

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${sys.api}/admin/login`);
    await page.fill('input[name=token]', sys.adminToken);
    await page.click('button[type=submit]');
    await page.getByRole('link', { name: /每日对账/ }).click();
    await page.getByText('每日净收入（元，近 30 天）').waitFor();
    await page.getByRole('button', { name: '下载账单并对账' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /对账完成：账单 \d+ 行，差异 2 笔/ })
      .waitFor();
    // Each discrepancy in the operator's words; ours links to its order, the stranger's cannot.
    await page.getByText('我方已支付、微信账单无此付款').waitFor();
    await page.getByText('微信有、我方无的付款').waitFor();
    expect(await page.getByRole('link', { name: omitted.order.outTradeNo }).count()).toBe(1);
    expect(await page.getByRole('link', { name: stranger.body.outTradeNo }).count()).toBe(0);
    expect(await page.getByText('¥12.34').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(shots, 'ops-books-day.png'), fullPage: true });
    await page.goto(`${sys.api}/admin/books`);
    await page.getByText('有差异待处理').waitFor();
    await page.screenshot({ path: path.join(shots, 'ops-books.png'), fullPage: true });
    // The same day through the admin API.
    const today = (await sys.admin('GET', '/books')).body.days[0];
    expect(today.discrepancies.map((d: { kind: string }) => d.kind).sort()).toEqual(['MISSING_AT_WECHAT', 'MISSING_LOCALLY']);
    expect(today.matched).toBeGreaterThanOrEqual(1);
    expect(kept.order.outTradeNo).not.toBe(omitted.order.outTradeNo);
    expect(errors).toEqual([]);
    // A day whose bill is not ready: said on the page (answered 409), with what to do.
    await sys.controls({ billsReadyNow: false });
    await page.getByRole('button', { name: '下载账单并对账' }).click();
    await page.getByRole('status').filter({ hasText: '账单微信还在生成' }).waitFor();
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 409 (Conflict)']);
    await context.close();
  });

  it('walks the complaints inbox and answers one: reply, approve the refund, complete', async () => {
    const { order } = await sys.paidOrder('complainer');
    const filed = await sys.http('POST', `${sys.sandbox}/sandbox/controls`, {
      body: { fileComplaint: { outTradeNo: order.outTradeNo, source: 'PAY', refundAmount: 1200 } },
    });
    expect(filed.status).toBe(200);
    const providerId = filed.body.complaint.id as string;
    await expect.poll(async () => (await sys.admin('GET', `/complaints/PAY:${providerId}`)).status).toBe(200);

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${sys.api}/admin/login`);
    await page.fill('input[name=token]', sys.adminToken);
    await page.click('button[type=submit]');
    await page.getByRole('link', { name: /投诉/ }).first().click();
    await page
      .getByText(/待处理/)
      .first()
      .waitFor();
    await expect.poll(() => page.locator('td', { hasText: /^剩 2[34] 小时/ }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(shots, 'ops-complaints.png'), fullPage: true });
    await page.getByRole('link', { name: '微信支付投诉' }).first().click();
    await page.fill('textarea[name=text]', '您好，已为您安排退款，请留意到账。');
    await page.getByRole('button', { name: '发送回复' }).click();
    await page.getByRole('status').filter({ hasText: '已回复顾客' }).waitFor();
    expect(await page.inputValue('input[name=amount]')).toBe('12.00');
    await page.getByRole('button', { name: '同意退款' }).click();
    await page.getByRole('status').filter({ hasText: '已同意退款' }).waitFor();
    await page.getByText('已同意退款 ¥12.00').waitFor();
    await page.screenshot({ path: path.join(shots, 'ops-complaint-answered.png'), fullPage: true });
    const atWechat = (await sys.http('GET', `${sys.sandbox}/sandbox/complaints/${providerId}`)).body;
    expect(atWechat.merchant).toMatchObject({ replies: ['您好，已为您安排退款，请留意到账。'], refundDecision: { action: 'APPROVE' } });
    await expect
      .poll(async () => (await sys.admin('GET', `/orders/${order.id}`)).body.refunds.map((r: { amount: number }) => r.amount))
      .toEqual([1200]);
    await page.reload();
    if (await page.getByRole('button', { name: '标记处理完成' }).count()) {
      await page.getByRole('button', { name: '标记处理完成' }).click();
      await page.getByRole('status').filter({ hasText: '已标记处理完成' }).waitFor();
    }
    await page.getByText('已完结').first().waitFor();
    expect((await sys.admin('GET', `/complaints/PAY:${providerId}`)).body.complaint.state).toBe('RESOLVED');
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
