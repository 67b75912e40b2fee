// Fast tier: complaints' rules on the in-memory store and fakes — forward-only state, deadlines, notifications
// de-duplicated, answers idempotent, an approved refund refunded once, the reconciler catching a lost one.
import { describe, expect, it } from 'vitest';
import { deadlineOf, PAY_FIRST_REPLY_MS, PAY_RESOLVE_MS } from '../../src/domain/complaint';
import {
  type ComplaintDeps,
  completeComplaint,
  decideComplaintRefund,
  findComplaint,
  listComplaints,
  receiveComplaintNotification,
  receiveTradeComplaintPush,
  reconcileComplaints,
  refOf,
  replyToComplaint,
  syncComplaint,
} from '../../src/domain/complaints';
import { createRefusalLog } from '../../src/domain/refusals';
import { createOrder } from '../../src/domain/place-order';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { complaintNotification, fakeComplaints, fastSystem, type FastSystem } from '../support/fakes';

async function setup() {
  const sys = await fastSystem();
  const provider = fakeComplaints(sys.clock);
  const deps: ComplaintDeps = {
    ...sys.checkout,
    store: sys.store,
    complaints: provider,
    sealer: { seal: (s) => `sealed:${Buffer.from(s).toString('base64')}`, open: (s) => Buffer.from(s.slice(7), 'base64').toString() },
    refusals: createRefusalLog({ store: sys.store, logger: sys.logger, now: sys.checkout.now }),
  };
  return { sys, provider, deps };
}

async function paidOrder(sys: FastSystem) {
  const user = await sys.shopper();
  const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
  await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
  return (await sys.store.findOrder(order.id))!;
}

describe('complaints', () => {
  it('deadlines follow each system: PAY 24 h to a first reply, 72 h to resolve; MINIPROGRAM the push, else 48 h', () => {
    expect(deadlineOf({ source: 'PAY', state: 'NEW', createdAt: 0 }, null)).toBe(PAY_FIRST_REPLY_MS);
    expect(deadlineOf({ source: 'PAY', state: 'IN_PROGRESS', createdAt: 0 }, null)).toBe(PAY_RESOLVE_MS);
    expect(deadlineOf({ source: 'MINIPROGRAM', state: 'NEW', createdAt: 0 }, 5)).toBe(5);
    expect(deadlineOf({ source: 'MINIPROGRAM', state: 'NEW', createdAt: 0 }, null)).toBe(48 * 3600_000);
    expect(deadlineOf({ source: 'PAY', state: 'RESOLVED', createdAt: 0 }, null)).toBeNull();
    expect(refOf('MINIPROGRAM:123')).toEqual({ source: 'MINIPROGRAM', id: '123' });
    expect(() => refOf('OTHER:1')).toThrow(/not found/);
  });

  it('a notification stores the complaint once, tied to its order; a forged one is refused; state never goes back', async () => {
    const { sys, provider, deps } = await setup();
    const order = await paidOrder(sys);
    const p = provider.file({ outTradeNo: order.outTradeNo!, refundRequested: 1000 });
    expect(await receiveComplaintNotification(deps, complaintNotification('EV-1', p.id, { forged: true }))).toMatchObject({
      kind: 'REFUSED',
    });
    expect(await receiveComplaintNotification(deps, complaintNotification('EV-1', p.id))).toEqual({
      kind: 'RECORDED',
      complaintId: `PAY:${p.id}`,
      duplicate: false,
    });
    expect(await receiveComplaintNotification(deps, complaintNotification('EV-1', p.id))).toMatchObject({ duplicate: true });
    expect(provider.calls.filter((c) => c.startsWith('fetch'))).toHaveLength(1);
    const c = await findComplaint(sys.store, `PAY:${p.id}`);
    expect(c).toMatchObject({ orderId: order.id, state: 'NEW', refundRequested: 1000, deadline: p.createdAt + PAY_FIRST_REPLY_MS });
    expect(c.payerPhoneSealed).toMatch(/^sealed:/);
    // The provider reports it resolved, then (out of order) new again: it stays resolved.
    provider.held.get(`PAY:${p.id}`)!.state = 'RESOLVED';
    await syncComplaint(deps, refOf(c.id));
    provider.held.get(`PAY:${p.id}`)!.state = 'NEW';
    expect((await syncComplaint(deps, refOf(c.id)))!.state).toBe('RESOLVED');
    expect(await listComplaints(sys.store, 'RESOLVED')).toHaveLength(1);
  });

  it('replies once per text, approves a refund once (our refund, keyed by the complaint), completes once', async () => {
    const { sys, provider, deps } = await setup();
    const order = await paidOrder(sys);
    const p = provider.file({ outTradeNo: order.outTradeNo!, refundRequested: 1500 });
    const id = (await syncComplaint(deps, refOf(`PAY:${p.id}`)))!.id;
    await replyToComplaint(deps, id, '马上处理');
    await replyToComplaint(deps, id, '马上处理');
    expect(provider.calls.filter((c) => c.startsWith('reply'))).toHaveLength(1);
    await expect(replyToComplaint(deps, id, '')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const [a, b] = await Promise.all([
      decideComplaintRefund(deps, id, { approve: true }),
      decideComplaintRefund(deps, id, { approve: true }),
    ]);
    expect(a.refundDecision).toMatchObject({ approve: true, amount: 1500 });
    expect(b.refundDecision?.outRefundNo).toBe(a.refundDecision?.outRefundNo);
    expect(provider.calls.filter((c) => c.startsWith('decide'))).toHaveLength(1);
    expect(await sys.store.listRefunds(order.id)).toEqual([expect.objectContaining({ amount: 1500 })]);
    await expect(decideComplaintRefund(deps, id, { approve: false, reason: '不同意' })).rejects.toMatchObject({
      code: 'COMPLAINT_DECIDED',
    });
    expect((await completeComplaint(deps, id)).state).toBe('RESOLVED');
    await completeComplaint(deps, id);
    expect(provider.calls.filter((c) => c.startsWith('complete'))).toHaveLength(1);
    await expect(replyToComplaint(deps, id, '还在吗')).rejects.toMatchObject({ code: 'COMPLAINT_RESOLVED' });
  });

  it('a trade complaint arrives by push; the reconciler catches one whose notification was lost', async () => {
    const { sys, provider, deps } = await setup();
    const order = await paidOrder(sys);
    const mini = provider.file({
      source: 'MINIPROGRAM',
      id: '100000000000001',
      outTradeNo: order.outTradeNo!,
      deadline: sys.clock.now() + 3600_000,
    });
    expect((await receiveTradeComplaintPush(deps, mini.id))!.deadline).toBe(mini.deadline);
    const lost = provider.file({ outTradeNo: order.outTradeNo! });
    expect(await sys.store.findComplaint(`PAY:${lost.id}`)).toBeNull();
    expect(await reconcileComplaints(deps)).toEqual({ examined: 2, errors: 0 });
    expect(await sys.store.findComplaint(`PAY:${lost.id}`)).toMatchObject({ orderId: order.id, state: 'NEW' });
    // The order's shopper sees a complaint open.
    expect((await listComplaints(sys.store)).map((c) => c.source).sort()).toEqual(['MINIPROGRAM', 'PAY']);
  });
});
