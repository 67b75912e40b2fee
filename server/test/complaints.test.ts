// Complaints end to end against the sandbox over real sockets: a shopper complains to WeChat (both systems); the
// complaint reaches the inbox with its deadline; the operator replies, approves the refund (our own refund,
// once, whatever the double submits) and completes it; a lost notification is caught by the reconciler; a
// forged or replayed notification changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNotification } from '../../sandbox/notify';
import { startTestSystem, waitFor, type TestSystem } from './helpers';
import fs from 'node:fs';
import path from 'node:path';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({
    env: { RECONCILE_INTERVAL_SECONDS: '0', ORDER_QUERY_THROTTLE_MS: '600000' },
    system: { controls: { timeScale: 0.001, refundDelayMs: 10 } },
  });
});
afterAll(() => sys.close());

const admin = (method: string, p: string, body?: unknown) =>
  sys.request(method, `/api/admin${p}`, { body, headers: { Authorization: `Bearer ${sys.adminToken}` } });
const fileComplaint = async (outTradeNo: string, source: 'PAY' | 'MINIPROGRAM', refundAmount?: number) => {
  const res = await sys.request('POST', `${sys.sandboxUrl}/sandbox/controls`, {
    body: { fileComplaint: { outTradeNo, source, ...(refundAmount ? { refundAmount } : {}) } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.complaint.id as string;
};
const atWechat = async (id: string) => (await sys.request('GET', `${sys.sandboxUrl}/sandbox/complaints/${id}`)).body;
const paid = async () => {
  const { order, token } = await sys.paidOrder();
  const stored = (await sys.server.store.findOrder(order.id))!;
  return { id: order.id, outTradeNo: stored.outTradeNo!, total: stored.total, token };
};

describe('WeChat Pay consumer complaints (PAY)', () => {
  it('registers the notification URL at start, and again on demand', async () => {
    const url = `${new URL(sys.api).origin}/api/wechatpay/complaints`;
    const again = await admin('PUT', '/complaints/notification-url');
    expect(again.status).toBe(200);
    expect(again.body.url).toBe(url);
  });

  it('a complaint with a refund request: inbox with its deadline, reply, approve (refunded once), complete', async () => {
    const order = await paid();
    const providerId = await fileComplaint(order.outTradeNo, 'PAY', 2000);
    const id = `PAY:${providerId}`;
    const inbox = await waitFor(async () => {
      const list = (await admin('GET', '/complaints')).body.complaints as { id: string }[];
      return list.find((c) => c.id === id);
    });
    expect(inbox).toMatchObject({ source: 'PAY', orderId: order.id, state: 'NEW', refundRequested: 2000, overdue: false });
    const deadline = Date.parse((inbox as unknown as { deadline: string }).deadline);
    expect(deadline - Date.now()).toBeGreaterThan(23 * 3600_000); // a first reply within 24 h
    // The shopper's order says a complaint is open.
    expect((await sys.request('GET', `/api/orders/${order.id}`, { token: order.token })).body.order.complaint).toBe('OPEN');

    const replied = await admin('POST', `/complaints/${id}/replies`, { text: '您好，我们已核实，马上为您处理退款。' });
    expect(replied.status).toBe(201);
    expect(replied.body.complaint.state).toBe('IN_PROGRESS');
    // A double submit of the same reply is the same reply.
    await admin('POST', `/complaints/${id}/replies`, { text: '您好，我们已核实，马上为您处理退款。' });
    expect((await atWechat(providerId)).merchant.replies).toHaveLength(1);

    const [a, b] = await Promise.all([
      admin('POST', `/complaints/${id}/refund-decision`, { approve: true }),
      admin('POST', `/complaints/${id}/refund-decision`, { approve: true }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 200]);
    const decided = a.body.complaint.refundDecision;
    expect(decided).toMatchObject({ approve: true, amount: 2000, outRefundNo: expect.stringMatching(/^RF/) });
    // One refund of the asked amount, through the usual flow; WeChat sees it arrive and resolves the complaint.
    const refunds = await waitFor(async () => {
      const o = (await sys.request('GET', `/api/orders/${order.id}`, { token: order.token })).body.order;
      return o.refunds.length === 1 && o.refunds[0].status === 'SUCCESS' ? o.refunds : null;
    });
    expect(refunds).toEqual([expect.objectContaining({ amount: 2000 })]);
    expect((await atWechat(providerId)).merchant.refundDecision).toEqual({ action: 'APPROVE', reason: null });
    await waitFor(async () => (await atWechat(providerId)).state === 'PROCESSED');
    const done = await admin('POST', `/complaints/${id}/complete`);
    expect(done.body.complaint).toMatchObject({ state: 'RESOLVED', deadline: null });
    expect((await sys.request('GET', `/api/orders/${order.id}`, { token: order.token })).body.order.complaint).toBeUndefined();
    // The shopper's phone is sealed at rest, and never logged.
    const stored = (await sys.server.store.findComplaint(id))!;
    expect(stored.payerPhoneSealed).not.toContain('13800138000');
    expect(sys.logs.join('')).not.toContain('13800138000');
  });

  it('rejecting a refund says why; a resolved complaint takes no more answers; bad input is named', async () => {
    const order = await paid();
    const id = `PAY:${await fileComplaint(order.outTradeNo, 'PAY', 500)}`;
    await waitFor(async () => (await admin('GET', `/complaints/${id}`)).status === 200);
    expect((await admin('POST', `/complaints/${id}/refund-decision`, { approve: false, reason: '' })).status).toBe(400);
    expect((await admin('POST', `/complaints/${id}/replies`, { text: '' })).status).toBe(400);
    const rejected = await admin('POST', `/complaints/${id}/refund-decision`, { approve: false, reason: '商品已按约定发出，不支持退款' });
    expect(rejected.body.complaint).toMatchObject({ state: 'RESOLVED', refundDecision: { approve: false } });
    expect((await admin('POST', `/complaints/${id}/refund-decision`, { approve: true })).body.error.code).toBe('COMPLAINT_DECIDED');
    expect((await admin('POST', `/complaints/${id}/replies`, { text: '还有问题吗' })).body.error.code).toBe('COMPLAINT_RESOLVED');
    expect((await admin('GET', '/complaints/PAY:nonexistent')).status).toBe(404);
    expect((await admin('GET', '/complaints/WHAT:1')).status).toBe(400);
  });

  it('a dropped notification: the reconciler finds the complaint', async () => {
    const order = await paid();
    const before = (await admin('GET', '/complaints')).body.complaints.length;
    const providerId = await fileComplaintWithoutNotification(order.outTradeNo);
    expect((await admin('GET', '/complaints')).body.complaints.length).toBe(before);
    const report = await sys.server.reconcileNow();
    expect(report.complaints.examined).toBeGreaterThanOrEqual(1);
    expect((await admin('GET', `/complaints/PAY:${providerId}`)).body.complaint).toMatchObject({ state: 'NEW', orderId: order.id });
  });

  it('a forged or replayed notification changes nothing', async () => {
    const order = await paid();
    const keys = JSON.parse(fs.readFileSync(path.join(sys.dataDir, 'sandbox', 'keys.json'), 'utf8'));
    const providerId = await fileComplaint(order.outTradeNo, 'PAY');
    await waitFor(async () => (await admin('GET', `/complaints/PAY:${providerId}`)).status === 200);
    const notifications = (await sys.request('GET', `${sys.sandboxUrl}/sandbox/deliveries`)).body.deliveries.filter(
      (d: { kind: string; outTradeNo: string }) => d.kind === 'complaint' && d.outTradeNo === providerId,
    );
    expect(notifications).toEqual([expect.objectContaining({ status: 204 })]);
    const url = `${sys.api}/api/wechatpay/complaints`;
    // Forged: signed by a key WeChat never had.
    const crypto = await import('node:crypto');
    const stranger = { serial: keys.publicKeyId, privateKey: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    const forged = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer: stranger,
      originalType: 'complaint',
      eventType: 'COMPLAINT.STATE_CHANGE',
      transaction: { complaint_id: providerId, action_type: 'USER_RESPONSE' },
    });
    const res = await fetch(url, { method: 'POST', headers: forged.headers, body: forged.body });
    expect(res.status).toBe(401);
    // Replayed: a genuine notification sent twice is taken once.
    const genuine = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer: sys.sandbox.signer(),
      originalType: 'complaint',
      eventType: 'COMPLAINT.STATE_CHANGE',
      transaction: { complaint_id: providerId, action_type: 'USER_RESPONSE' },
    });
    expect((await fetch(url, { method: 'POST', headers: genuine.headers, body: genuine.body })).status).toBe(204);
    expect((await fetch(url, { method: 'POST', headers: genuine.headers, body: genuine.body })).status).toBe(204);
    expect((await admin('GET', `/complaints/PAY:${providerId}`)).body.complaint.state).toBe('NEW');
  });
});

/** Files a PAY complaint whose notification is lost (WeChat's URL points nowhere meanwhile), then restores the URL. */
async function fileComplaintWithoutNotification(outTradeNo: string): Promise<string> {
  const registerAt = async (url: string) =>
    expect((await sys.request('POST', `${sys.sandboxUrl}/sandbox/complaint-url`, { body: { url } })).status).toBe(200);
  await registerAt('http://127.0.0.1:9/api/wechatpay/complaints');
  const id = await fileComplaint(outTradeNo, 'PAY');
  await registerAt(`${new URL(sys.api).origin}/api/wechatpay/complaints`);
  return id;
}

describe('mini-program trade complaints (MINIPROGRAM)', () => {
  it('a push brings the complaint with its 48-hour deadline; approving refunds and closes it', async () => {
    const order = await paid();
    const providerId = await fileComplaint(order.outTradeNo, 'MINIPROGRAM');
    const id = `MINIPROGRAM:${providerId}`;
    const c = await waitFor(async () => {
      const r = await admin('GET', `/complaints/${id}`);
      return r.status === 200 ? r.body.complaint : null;
    });
    expect(c).toMatchObject({ source: 'MINIPROGRAM', orderId: order.id, state: 'NEW' });
    const left = Date.parse(c.deadline) - Date.now();
    expect(left).toBeGreaterThan(47 * 3600_000);
    expect(left).toBeLessThanOrEqual(48 * 3600_000);
    const approved = await admin('POST', `/complaints/${id}/refund-decision`, { approve: true });
    expect(approved.status).toBe(200);
    expect(approved.body.complaint.refundDecision).toMatchObject({ approve: true, amount: order.total });
    await waitFor(async () => (await atWechat(providerId)).state === '209');
    const synced = await sys.server.reconcileNow();
    expect(synced.complaints.errors).toBe(0);
    expect((await admin('GET', `/complaints/${id}`)).body.complaint.state).toBe('RESOLVED');
  });
});
