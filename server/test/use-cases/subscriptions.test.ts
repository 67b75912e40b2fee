// Fast tier: subscribe messages — one credit per accepted kind, sent only after its event, once under concurrent
// rounds; final errors given up, transient ones retried; the messenger runs rounds and a kick.
import { describe, expect, it } from 'vitest';
import { shipOrder } from '../../src/domain/fulfilment';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { createOrder } from '../../src/domain/place-order';
import { MessageSendError, type MessageSender } from '../../src/domain/ports/message-sender';
import { pageOf, recordSubscriptions, sendDueMessages, startMessenger, type SubscriptionDeps } from '../../src/domain/subscriptions';
import { fastSystem, type FastSystem } from '../support/fakes';

function sender(fail: (kind: string) => Error | null = () => null) {
  const sent: { openid: string; kind: string; page: string; values: Record<string, unknown> }[] = [];
  const m: MessageSender = {
    templateOf: (kind) => (kind === 'refunded' ? null : `tmpl-${kind}`),
    async send(msg) {
      await new Promise((r) => setTimeout(r, 1));
      const err = fail(msg.kind);
      if (err) throw err;
      sent.push(msg as never);
    },
  };
  return { m, sent };
}

async function setup(fail?: (kind: string) => Error | null) {
  const sys = await fastSystem();
  const s = sender(fail);
  const deps: SubscriptionDeps = { store: sys.store, messages: s.m, now: sys.checkout.now, logger: sys.logger };
  const user = await sys.shopper();
  const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
  return { sys, deps, sent: s.sent, user, order };
}

const pay = (sys: FastSystem, outTradeNo: string) => applyPaymentSucceeded(sys.checkout, sys.provider.pay(outTradeNo), 'notification');

describe('subscribe messages', () => {
  it('one credit per accepted kind (none for an unconfigured one), sent once its event is committed, once under concurrent rounds', async () => {
    const { sys, deps, sent, user, order } = await setup();
    const credits = await recordSubscriptions(deps, user, order.id, ['paid', 'shipped', 'refunded', 'paid']);
    expect(credits.map((c) => c.kind)).toEqual(['paid', 'shipped']);
    await expect(recordSubscriptions(deps, { ...user, id: 'someone-else' }, order.id, ['paid'])).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await sendDueMessages(deps)).toEqual({ sent: 0, givenUp: 0, retried: 0 }); // not paid yet
    await pay(sys, order.outTradeNo);
    const rounds = await Promise.all([sendDueMessages(deps), sendDueMessages(deps), sendDueMessages(deps)]);
    expect(rounds.reduce((n, r) => n + r.sent, 0)).toBe(1);
    expect(sent).toEqual([
      expect.objectContaining({ kind: 'paid', page: pageOf(order.id), values: expect.objectContaining({ amount: 4500 }) }),
    ]);
    await shipOrder(sys.fulfilment, order.id, { logisticsType: 'express', packages: [{ carrier: 'YD', trackingNo: 'YD1' }] });
    await sendDueMessages(deps);
    expect(sent.map((m) => m.kind)).toEqual(['paid', 'shipped']);
    expect(sent[1]!.values).toMatchObject({ trackingNo: 'YD1' });
  });

  it('a final refusal is given up at once; a transient failure is retried', async () => {
    let transient = true;
    const { sys, deps, user, order } = await setup((kind) =>
      kind === 'paid' ? new MessageSendError('43101 user refuse to accept the msg', 43101, true) : transient ? new Error('timeout') : null,
    );
    await recordSubscriptions(deps, user, order.id, ['paid', 'shipped']);
    await pay(sys, order.outTradeNo);
    await shipOrder(sys.fulfilment, order.id, { logisticsType: 'virtual', packages: [] });
    expect(await sendDueMessages(deps)).toEqual({ sent: 0, givenUp: 1, retried: 1 });
    transient = false;
    expect(await sendDueMessages(deps)).toEqual({ sent: 1, givenUp: 0, retried: 0 });
    const [paid, shipped] = await sys.store.listCredits(order.id);
    expect(paid).toMatchObject({ state: 'GIVEN_UP', attempts: 1, lastError: expect.stringMatching(/43101/) });
    expect(shipped).toMatchObject({ state: 'SENT', attempts: 2 });
  });

  it('the messenger sends on a kick and stops cleanly', async () => {
    const { sys, deps, sent, user, order } = await setup();
    await recordSubscriptions(deps, user, order.id, ['paid']);
    await pay(sys, order.outTradeNo);
    const messenger = startMessenger(deps, 60_000);
    messenger.kick();
    const until = Date.now() + 3000;
    while (sent.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await messenger.stop();
    expect(sent).toHaveLength(1);
  });
});
