// Subscribe messages over HTTP against the sandbox: what the shopper accepted after the pay tap becomes one message
// per kind, sent after the event, once — whatever the concurrent triggers; a refusal (43101) and bad data (47003)
// are recorded and not retried; a value too long for its keyword is cut as WeChat expects, not refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { MessageSendError } from '../src/domain/ports/message-sender';
import { fitValue } from '../src/messages/wechat';
import { createProviders } from '../src/wiring';
import { credentialsOf, opsCookie, startTestSystem, waitFor, type TestSystem } from './helpers';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({
    env: { RECONCILE_INTERVAL_SECONDS: '0', SUBSCRIBE_SEND_INTERVAL_MS: '100' },
    system: { controls: { timeScale: 0.001 } },
  });
});
afterAll(() => sys.close());

const templates = async () => (await sys.request('GET', '/api/subscribe-templates')).body.templates as Record<string, string>;
const messagesOf = async (openid: string) =>
  (await sys.request('GET', `${sys.sandboxUrl}/sandbox/subscribe-messages?openid=${openid}`)).body.messages as {
    templateId: string;
    page: string;
    data: Record<string, { value: string }>;
  }[];
/** The subscription dialog's answers, as the shopper taps them. */
const dialog = async (openid: string, answers: Record<string, string>) =>
  (await sys.request('POST', `${sys.sandboxUrl}/sandbox/subscribe`, { body: { openid, answers } })).body;

async function shopperPays(name: string) {
  const openid = sys.sandbox.issueCode(name).openid;
  const { order, token } = await sys.paidOrder([{ sku: 'MUG-CERAMIC', quantity: 1 }], name);
  return { openid, order, token };
}

describe('subscribe messages', () => {
  it('the sandbox hands its three templates to the server, which tells the mini program', async () => {
    const t = await templates();
    expect(Object.keys(t).sort()).toEqual(['paid', 'refunded', 'shipped']);
    const env = credentialsOf(sys.dataDir);
    expect(env.SUBSCRIBE_TEMPLATE_PAID).toBe(t.paid);
  });

  it('accepted paid and shipped: one 支付成功 message now, one 已发货 message with the tracking number after shipping, nothing for refunded', async () => {
    const t = await templates();
    const { openid, order, token } = await shopperPays('subscriber');
    expect(await dialog(openid, { [t.paid!]: 'accept', [t.shipped!]: 'accept', [t.refunded!]: 'reject' })).toMatchObject({
      [t.paid!]: 'accept',
    });
    // Two concurrent reports (a double tap) and the send loop: still one message.
    const [a, b] = await Promise.all([
      sys.request('POST', `/api/orders/${order.id}/subscriptions`, { token, body: { accepted: ['paid', 'shipped'] } }),
      sys.request('POST', `/api/orders/${order.id}/subscriptions`, { token, body: { accepted: ['paid', 'shipped'] } }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await waitFor(async () => (await messagesOf(openid)).length === 1);
    await new Promise((r) => setTimeout(r, 300)); // a few more rounds of the loop
    const [paid] = await messagesOf(openid);
    expect(paid).toMatchObject({ templateId: t.paid, page: `pages/result/index?id=${order.id}&outcome=ok` });
    expect(paid!.data.amount2!.value).toBe('¥45.00');
    expect(paid!.data.character_string1!.value).toBe((await sys.server.store.findOrder(order.id))!.outTradeNo);

    const shipped = await sys.request('POST', `/api/admin/orders/${order.id}/shipments`, {
      body: { logisticsType: 'express', packages: [{ carrier: 'YD', trackingNo: 'YD1234567890' }] },
      headers: { Authorization: `Bearer ${sys.adminToken}` },
    });
    expect(shipped.status).toBe(201);
    await waitFor(async () => (await messagesOf(openid)).length === 2);
    const ship = (await messagesOf(openid))[1]!;
    expect(ship.templateId).toBe(t.shipped);
    expect(ship.data.character_string3!.value).toBe('YD1234567890');
    expect(ship.data.thing2!.value).toMatch(/韵达/);
    // The refund was refused in the dialog: the shopper never reported it, and nothing is sent for it.
    expect((await sys.server.store.listCredits(order.id)).map((c) => [c.kind, c.state])).toEqual([
      ['paid', 'SENT'],
      ['shipped', 'SENT'],
    ]);
    // The operator sees the messages on the order's page.
    const cookie = await opsCookie(sys.api, sys.adminToken);
    const opsPage = await (await fetch(`${sys.api}/admin/orders/${order.id}`, { headers: { Cookie: cookie } })).text();
    expect(opsPage).toMatch(/订阅消息[\s\S]*支付成功[\s\S]*已发送[\s\S]*已发货[\s\S]*已发送/);
    const metrics = await (await fetch(`${sys.api}/metrics`, { headers: { Authorization: `Bearer ${sys.adminToken}` } })).text();
    expect(metrics).toMatch(/subscribe_messages_total\{kind="shipped",outcome="sent"\} 1/);
  });

  it('43101: accepted by our record but not at WeChat — recorded, given up, not retried', async () => {
    const { order, token } = await shopperPays('no-dialog');
    // The client says accepted, but the shopper never accepted in WeChat's dialog: WeChat refuses the send.
    await sys.request('POST', `/api/orders/${order.id}/subscriptions`, { token, body: { accepted: ['paid'] } });
    const credit = await waitFor(async () => {
      const [c] = await sys.server.store.listCredits(order.id);
      return c?.state === 'GIVEN_UP' ? c : null;
    });
    expect(credit.lastError).toMatch(/43101/);
    await new Promise((r) => setTimeout(r, 400));
    expect((await sys.server.store.listCredits(order.id))[0]!.attempts).toBe(1);
  });

  it('47003 for data that breaks a rule is final; a value over its length is cut as WeChat expects', async () => {
    const t = await templates();
    const openid = sys.sandbox.issueCode('long-names').openid;
    const env = { ...credentialsOf(sys.dataDir), DATA_DIR: sys.dataDir, PORT: '0' };
    // A keyword map that leaves the template's amount out: WeChat answers 47003, which is not retried.
    const broken = createProviders(
      loadConfig({ ...env, SUBSCRIBE_KEYWORDS_PAID: 'order:character_string1,item:thing3,time:time4' }),
    ).messages;
    await dialog(openid, { [t.paid!]: 'accept' });
    const sending = broken.send({
      openid,
      kind: 'paid',
      page: 'pages/orders/index',
      values: { order: 'T1', item: 'x', amount: 100, time: Date.now() },
    });
    await expect(sending).rejects.toMatchObject({ code: 47003, final: true });
    await expect(sending).rejects.toBeInstanceOf(MessageSendError);
    // A product name of 30 characters: cut to 20 (19 and an ellipsis), and WeChat takes it.
    const messages = createProviders(loadConfig(env)).messages;
    const long = '手工陶瓷马克杯三百五十毫升白色哑光釉面礼盒装附赠木质杯垫一只';
    await messages.send({
      openid,
      kind: 'paid',
      page: 'pages/orders/index',
      values: { order: 'T2', item: long, amount: 4500, time: Date.now() },
    });
    const [sent] = await messagesOf(openid);
    expect(sent!.data.thing3!.value).toBe(`${[...long].slice(0, 19).join('')}…`);
    expect([...sent!.data.thing3!.value]).toHaveLength(20);
    expect(fitValue('character_string1', 'T2中文-ok')).toBe('T2-ok');
    expect(fitValue('phrase4', '已发货了吗真的')).toBe('已发货了吗');
  });
});
