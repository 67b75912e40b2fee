// The H5 build in Debian's chromium against the real server and sandbox: pay, cancel and retry,
// and a refusal the app recovers from. Screenshots of each final state go to test-results/e2e/.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { staleReason, taroBuild } from '../scripts/h5-build';
import { startSystemProcess, type SystemProcess } from '../server/test/system-process';

const root = path.resolve(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = path.join(root, 'test-results/e2e');
const hasChromium = fs.existsSync(CHROMIUM);

if (!hasChromium && process.env.CI) throw new Error(`CI needs chromium at ${CHROMIUM} (.ci/run installs it with apt)`);
if (!hasChromium)
  console.log(`[skip] browser end-to-end tests: no chromium at ${CHROMIUM}; apt-get install chromium chromium-driver to run them`);

for (const version of ['v3', 'v2'] as const)
  describe.skipIf(!hasChromium)(`checkout in a browser, WeChat Pay API ${version}`, () => {
    let sys: SystemProcess;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      const reason = staleReason(root, path.join(root, 'dist/h5'));
      if (reason) await taroBuild(root, 'h5');
      fs.mkdirSync(shots, { recursive: true });
      sys = await startSystemProcess({ CLIENT_DIR: 'dist/h5', WECHATPAY_API_VERSION: version });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        // launch() gives every run a fresh, temporary user-data dir of its own.
      });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await sys?.stop();
    });

    beforeEach(async () => {
      // A fresh context per test: new storage, so a new shopper.
      const context = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'zh-CN' });
      page = await context.newPage();
      page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    });
    afterEach(async () => {
      await page.context().close();
    });

    // Taro's H5 router keeps earlier pages in the DOM, hidden: always look for visible elements.
    const visibleText = (text: string | RegExp) => page.getByText(text, { exact: typeof text === 'string' }).filter({ visible: true });
    /** Taps in the sheet as a person does: after seeing it (the sheet ignores taps in its first 500 ms). */
    const tapSheet = async (which: 'pay' | 'cancel') => {
      await page.locator('.pay-sheet').waitFor();
      await page.waitForTimeout(600);
      await page.locator(`.pay-sheet__${which}`).click();
      if (which === 'pay') await answerSubscribe(false);
    };
    /** After an order's first payment the subscription dialog's stand-in asks once: answer it when it comes. */
    const answerSubscribe = async (allow: boolean) => {
      const dialog = visibleText('订阅消息');
      if (
        await dialog.waitFor({ timeout: 1500 }).then(
          () => true,
          () => false,
        )
      )
        await page
          .getByText(allow ? '允许' : '取消', { exact: true })
          .filter({ visible: true })
          .click();
    };
    // Every state is pictured at 375 px (most phones) and 320 px (the narrowest WeChat supports), and at
    // each width nothing may stick out sideways. Taro's H5 router fades pages in: let that end first.
    const shot = async (name: string) => {
      for (const width of [375, 320]) {
        await page.setViewportSize({ width, height: 740 });
        await page.waitForTimeout(400);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} at ${width} px scrolls sideways by ${overflow} px`).toBe(0);
        await page.screenshot({ path: path.join(shots, `${version}-${name}-${width}.png`) });
      }
      await page.setViewportSize({ width: 375, height: 740 });
    };

    async function openShopAndAdd(label: string, times = 1) {
      await page.goto(sys.api);
      await visibleText('合计').waitFor();
      for (let i = 0; i < times; i++) await page.getByLabel(`增加${label}`).filter({ visible: true }).click();
    }

    it('(a) launch → login → add items → pay → result shows paid', async () => {
      await openShopAndAdd('陶瓷马克杯', 2);
      await page.getByLabel('增加贴纸一套').filter({ visible: true }).click();
      await expect.poll(() => page.getByLabel('合计金额').filter({ visible: true }).textContent()).toBe('¥90.01');
      const created = page.waitForResponse((r) => r.url().endsWith('/api/orders') && r.request().method() === 'POST');
      await visibleText('微信支付 ¥90.01').click();
      // The sheet's fields as the server signed them: RSA for v3, the seed's MD5 for v2.
      expect((await (await created).json()).payment.signType).toBe(version === 'v3' ? 'RSA' : 'MD5');
      const sheet = page.locator('.pay-sheet');
      await sheet.waitFor();
      expect(await sheet.locator('.pay-sheet__amount').textContent()).toBe('¥90.01');
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
      expect(await visibleText('¥90.01').count()).toBeGreaterThan(0);
      await shot('a-paid');
    });

    it('loads the shop compressed: at most 150 KB over the wire before it is usable, hashed assets cached for good', async () => {
      await page.goto(sys.api);
      await visibleText('合计').waitFor();
      const bytes = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation') as PerformanceResourceTiming[];
        const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
        return [...nav, ...res].filter((e) => new URL(e.name).origin === location.origin).reduce((n, e) => n + e.transferSize, 0);
      });
      console.log(`[figure] h5-transfer: the shop usable after ${(bytes / 1024).toFixed(0)} KB over the wire (budget 150 KB)`);
      expect(bytes).toBeGreaterThan(10_000);
      expect(bytes).toBeLessThanOrEqual(150 * 1024);
      const script = await page.evaluate(() => (document.querySelector('script[src*="/js/app."]') as HTMLScriptElement).src);
      const res = await fetch(script, { headers: { 'Accept-Encoding': 'br, gzip' } });
      expect(res.headers.get('content-encoding')).toBe('br');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await fetch(script, { headers: { 'Accept-Encoding': 'gzip' } })).headers.get('content-encoding')).toBe('gzip');
    });

    it('runs the page as designed under its CSP: the rem script runs, and every tap target is at least 44 CSS px at 375 and 320 px', async () => {
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      for (const width of [375, 320]) {
        await page.setViewportSize({ width, height: 740 });
        await openShopAndAdd('陶瓷马克杯');
        const rootPx = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
        // Taro's rem script ran: 40 px per 750 design px, never under 20 px (so 320 px draws as 375 does).
        expect(rootPx).toBeCloseTo(Math.max(20, (40 * width) / 750), 1);
        for (const label of ['增加陶瓷马克杯', '减少陶瓷马克杯', '我的订单']) {
          const box = (await page.getByLabel(label).filter({ visible: true }).boundingBox())!;
          expect(Math.min(box.width, box.height), `${label} at ${width} px`).toBeGreaterThanOrEqual(44);
        }
        const pay = (await page.locator('.checkout__pay').filter({ visible: true }).boundingBox())!; // the kept cart: ¥45.00, then ¥90.00
        expect(pay.height, `微信支付 at ${width} px`).toBeGreaterThanOrEqual(44);
      }
      expect(violations).toEqual([]);
    });

    it('keeps the stepper within 0…max and says so at the limit', async () => {
      await openShopAndAdd('陶瓷马克杯', 13); // the mug's limit is 10
      await expect.poll(() => page.getByLabel('陶瓷马克杯数量').filter({ visible: true }).textContent()).toBe('10');
      await visibleText('最多 10 件').waitFor();
      const minus = page.getByLabel('减少贴纸一套').filter({ visible: true });
      for (let i = 0; i < 3; i++) await minus.click({ force: true });
      expect(await page.getByLabel('贴纸一套数量').filter({ visible: true }).textContent()).toBe('0');
      expect(await page.getByLabel('合计金额').filter({ visible: true }).textContent()).toBe('¥450.00');
      await shot('stepper-at-limit');
    });

    it('a double tap never pays or cancels without the sheet having been seen', async () => {
      await openShopAndAdd('挂耳咖啡 10 包');
      await visibleText('微信支付 ¥39.90').dblclick();
      const sheet = page.locator('.pay-sheet');
      await sheet.waitFor();
      // A tap that lands on the sheet the moment it opens is the second tap of the double tap: ignored.
      await sheet
        .locator('.pay-sheet__cancel')
        .click({ force: true, delay: 0 })
        .catch(() => undefined);
      await sheet.waitFor({ state: 'visible' });
      await page.waitForTimeout(700);
      await sheet.locator('.pay-sheet__cancel').click();
      await visibleText('支付已取消').waitFor();
      await visibleText('重新支付').dblclick();
      await page.locator('.pay-sheet').waitFor();
      await page
        .locator('.pay-sheet__pay')
        .click({ force: true, delay: 0 })
        .catch(() => undefined);
      expect(await page.locator('.pay-sheet').isVisible()).toBe(true); // still shown: not paid unseen
      await page.waitForTimeout(700);
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
    });

    it('Back closes the payment sheet as a cancel, instead of leaving the shop', async () => {
      await openShopAndAdd('贴纸一套');
      await visibleText('微信支付 ¥0.01').click();
      await page.locator('.pay-sheet').waitFor();
      await page.waitForTimeout(600);
      await page.goBack();
      await page.locator('.pay-sheet').waitFor({ state: 'detached' });
      await visibleText('支付已取消').waitFor();
      expect(page.url().startsWith(sys.api)).toBe(true);
    });

    it('a sheet closed by its button leaves no history behind: Back from the result returns to the shop, Back again leaves it', async () => {
      await page.goto('about:blank');
      await openShopAndAdd('贴纸一套');
      await visibleText('微信支付 ¥0.01').click();
      await tapSheet('cancel');
      await visibleText('支付已取消').waitFor();
      await page.goBack();
      await visibleText('微信支付 ¥0.01').waitFor();
      await page.goBack();
      await expect.poll(() => page.url()).toBe('about:blank');
    });

    it('(b) cancel in the sheet → not paid with Retry → Retry → paid', async () => {
      await openShopAndAdd('挂耳咖啡 10 包');
      await visibleText('微信支付 ¥39.90').click();
      await tapSheet('cancel');
      await visibleText('支付已取消').waitFor();
      await shot('b-cancelled');
      await visibleText('重新支付').click();
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
      await shot('b-paid-after-retry');
    });

    it('(c) the server refuses → a clear error → the app recovers', async () => {
      await openShopAndAdd('云南小粒咖啡豆 250g');
      await sys.controls({ failPrepay: { status: 403, code: 'NOAUTH', message: '商户无此接口权限', times: 1 } });
      await visibleText('微信支付 ¥68.00').click();
      const alert = page.getByRole('alert').filter({ visible: true });
      await alert.waitFor();
      expect(await alert.textContent()).toBe('下单失败：微信支付暂时无法受理该订单，请稍后重试');
      await shot('c-refused');
      await visibleText('微信支付 ¥68.00').click();
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
      await shot('c-recovered');
    });

    it('(d) paid, then refunded by the operator → the result page shows 已退款 with the amount', async () => {
      await openShopAndAdd('陶瓷马克杯', 2);
      await visibleText('微信支付 ¥90.00').click();
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
      const orderId = /[?&]id=(ord_[0-9a-f]{32})/.exec(decodeURIComponent(page.url()))?.[1];
      expect(orderId).toBeTruthy();
      const refund = await sys.admin('POST', `/orders/${orderId}/refunds`, { amount: 9000, reason: '商品缺货' });
      expect(refund.status).toBe(201);
      await expect
        .poll(async () => (await sys.admin('GET', `/orders/${orderId}`)).body.refunds[0].status, { timeout: 5000 })
        .toBe('SUCCESS');
      await page.reload();
      await visibleText('已退款 ¥90.00').waitFor({ timeout: 10_000 });
      await shot('d-refunded');
    });

    it('(e) cancel → back: the cart is kept → 我的订单 shows it 待支付 with its countdown → 去支付 → paid', async () => {
      await openShopAndAdd('陶瓷马克杯');
      await visibleText('微信支付 ¥45.00').click();
      await tapSheet('cancel');
      await visibleText('支付已取消').waitFor();
      await visibleText(/^订单号 /).waitFor();
      await page.goBack();
      await visibleText('微信支付 ¥45.00').waitFor(); // the cart survived
      await page.getByLabel('我的订单').filter({ visible: true }).click();
      await visibleText('待支付').waitFor();
      await visibleText(/^剩余 \d\d:\d\d 支付$/).waitFor();
      await shot('e-orders-pending');
      await page
        .getByLabel(/^去支付 /)
        .filter({ visible: true })
        .click();
      await visibleText('重新支付').click();
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
      await shot('e-paid-from-orders');
    });

    it('(g) the states the flows above pass too quickly: confirming, unconfirmed, closed, an empty order list, a failed login', async () => {
      if (version !== 'v3') return; // pages, not payment API: once is enough
      await page.goto(sys.api);
      await visibleText('合计').waitFor();
      // 我的订单 of a new shopper: empty, with a way back to the shop.
      await page.getByLabel('我的订单').filter({ visible: true }).click();
      await visibleText('还没有订单').waitFor();
      await shot('g-orders-empty');
      // A pending order the sheet said was paid: the page keeps confirming, then says it cannot yet.
      // Taro's H5 storage keeps {data} as JSON: the browser's shopper's token, for an order of theirs.
      const token = (JSON.parse((await page.evaluate(() => localStorage.getItem('checkout.token')))!) as { data: string }).data;
      const pending = await sys.checkout(token);
      await page.goto(`${sys.api}/#/pages/result/index?id=${pending.order.id}&outcome=ok`);
      await visibleText('正在确认支付结果').waitFor();
      await shot('g-confirming');
      await visibleText('支付结果确认中').waitFor({ timeout: 20_000 });
      await shot('g-unconfirmed');
      // Past its time to pay: closed, with one way on.
      const db = new Database(path.join(sys.dataDir, 'checkout.sqlite'));
      db.prepare('UPDATE orders SET pay_deadline = ? WHERE id = ?').run(Date.now() - 1000, pending.order.id);
      db.close();
      await page.goto(`${sys.api}/#/pages/result/index?id=${pending.order.id}&outcome=cancel`);
      await page.reload();
      await visibleText('订单已关闭').waitFor();
      await shot('g-closed');
      // A failed login: WeChat busy, then the login page says so with one way to try again.
      await sys.controls({ code2sessionErrcode: { errcode: -1, times: 20 } });
      await page.evaluate(() => localStorage.clear());
      await page.goto(sys.api);
      await visibleText('重新登录').waitFor({ timeout: 15_000 });
      await shot('g-login-failed');
      await sys.controls({ code2sessionErrcode: null });
      await visibleText('重新登录').click();
      await visibleText('合计').waitFor({ timeout: 15_000 });
    });

    it('(f) paid → the operator ships on the ops page → 我的订单 shows 已发货 with carrier and tracking number → 确认收货 → 已完成', async () => {
      if (version !== 'v3') return; // shipping does not depend on the payment API: once is enough
      await openShopAndAdd('陶瓷马克杯');
      await visibleText('微信支付 ¥45.00').click();
      await tapSheet('pay');
      await visibleText('支付成功').waitFor({ timeout: 10_000 });
      const orderId = /[?&]id=(ord_[0-9a-f]{32})/.exec(decodeURIComponent(page.url()))![1]!;
      await visibleText('待发货').waitFor();
      // The operator, in a browser of their own: sign in, open the order, ship it by express.
      const ops = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'zh-CN' });
      const op = await ops.newPage();
      await op.goto(`${sys.api}/admin/login`);
      await op.fill('input[name=token]', sys.adminToken);
      await op.click('button[type=submit]');
      await op.getByText('每小时下单（近 24 小时）').waitFor();
      await op.goto(`${sys.api}/admin/orders/${orderId}`);
      await op.selectOption('select[name=logisticsType]', 'express');
      await op.selectOption('select[name=carrier]', 'ZTO');
      await op.fill('input[name=trackingNo]', 'ZT20261130001');
      await op.getByRole('button', { name: '发货', exact: true }).click();
      await op.getByRole('status').filter({ hasText: '微信已收到发货信息' }).waitFor();
      await op.screenshot({ path: path.join(shots, 'ops-shipped.png'), fullPage: true });
      await ops.close();
      // The shopper.
      await page.goto(sys.api);
      await page.getByLabel('我的订单').filter({ visible: true }).click();
      await visibleText('已发货').waitFor({ timeout: 10_000 });
      await visibleText('中通快递 ZT20261130001').waitFor();
      await shot('f-orders-shipped');
      await page
        .getByLabel(/^确认收货 /)
        .filter({ visible: true })
        .click();
      await page.getByText('确认收货', { exact: true }).filter({ visible: true }).last().click(); // the modal's confirm
      await visibleText('已完成').waitFor({ timeout: 10_000 });
      await shot('f-orders-completed');
      expect((await sys.admin('GET', `/orders/${orderId}`)).body.shipment).toMatchObject({ status: 'COMPLETED', upload: 'ACCEPTED' });
    });
  });
