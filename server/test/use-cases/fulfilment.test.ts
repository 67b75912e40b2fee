// Fast tier: shipping a paid order and following it to completion (发货信息管理), against a fake of
// WeChat's shipping-info management.
import { describe, expect, it } from 'vitest';
import {
  advanceShipment,
  applyOrderMoved,
  checkWithWechat,
  confirmReceipt,
  shipOrder,
  syncShipments,
  uploadShipment,
} from '../../src/domain/fulfilment';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { createOrder } from '../../src/domain/place-order';
import { requestRefund } from '../../src/domain/refunds';
import { fastSystem, type FastSystem } from '../support/fakes';

const EXPRESS = { logisticsType: 'express' as const, packages: [{ carrier: 'YD', trackingNo: 'YD1' }] };

async function paid(sys: FastSystem) {
  const user = await sys.shopper();
  const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 2 }], null);
  await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
  return { order, user };
}

describe('shipping', () => {
  it('records the shipment, then uploads it with the payer, the item description and a later upload_time each time', async () => {
    const sys = await fastSystem();
    const { order, user } = await paid(sys);
    const { shipment, created } = await shipOrder(sys.fulfilment, order.id, EXPRESS);
    expect(created).toBe(true);
    expect(shipment).toMatchObject({
      upload: 'ACCEPTED',
      status: 'SHIPPED',
      shipCount: 1,
      itemDesc: '陶瓷马克杯*2',
      packages: [{ carrierName: '韵达快递' }],
    });
    expect(sys.shipping.uploads).toMatchObject([{ outTradeNo: order.outTradeNo, payerOpenid: user.openid, itemDesc: '陶瓷马克杯*2' }]);
    // The one change WeChat allows, then no more.
    const changed = await shipOrder(sys.fulfilment, order.id, { ...EXPRESS, packages: [{ carrier: 'SF', trackingNo: 'SF2' }] });
    expect(changed.shipment).toMatchObject({ shipCount: 2, upload: 'ACCEPTED' });
    expect(sys.shipping.uploads[1]!.uploadTime).toBeGreaterThan(sys.shipping.uploads[0]!.uploadTime);
    expect(await shipOrder(sys.fulfilment, order.id, EXPRESS).catch((e: unknown) => e)).toMatchObject({ code: 'RESHIP_USED' });
  });

  it('checks the content before anything is written or sent', async () => {
    const sys = await fastSystem();
    const { order } = await paid(sys);
    const refused = (input: Parameters<typeof shipOrder>[2]) => shipOrder(sys.fulfilment, order.id, input).catch((e: unknown) => e);
    expect(await refused({ logisticsType: 'express', packages: [] })).toMatchObject({ details: { field: 'packages' } });
    expect(await refused({ logisticsType: 'express', packages: [{ carrier: 'OTHER', trackingNo: '1' }] })).toMatchObject({
      details: { field: 'packages[0].carrier' },
    });
    expect(await refused({ logisticsType: 'virtual', packages: [{ carrier: 'SF', trackingNo: '1' }] })).toMatchObject({
      details: { field: 'packages' },
    });
    sys.fulfilment.contactPhone = null;
    expect(await refused({ logisticsType: 'express', packages: [{ carrier: 'SF', trackingNo: '1' }] })).toMatchObject({
      message: expect.stringMatching(/SHOP_CONTACT_PHONE/),
    });
    expect(sys.shipping.uploads).toEqual([]);
    expect(await sys.store.findShipment(order.id)).toBeNull();
  });

  it('refuses an unpaid order and one refunded in full', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
    expect(await shipOrder(sys.fulfilment, order.id, EXPRESS).catch((e: unknown) => e)).toMatchObject({ code: 'ORDER_NOT_PAID' });
    const p = await paid(sys);
    await requestRefund(sys.checkout, p.order.id, { amount: 9000, reason: null }, null);
    expect(await shipOrder(sys.fulfilment, p.order.id, EXPRESS).catch((e: unknown) => e)).toMatchObject({ code: 'ORDER_REFUNDED' });
  });

  it('keeps an upload WeChat could not take PENDING, and one it refused REFUSED with what to fix', async () => {
    const sys = await fastSystem();
    const a = await paid(sys);
    sys.shipping.failUploads(-1);
    expect((await shipOrder(sys.fulfilment, a.order.id, EXPRESS)).shipment.upload).toBe('PENDING');
    const b = await paid(sys);
    sys.shipping.failUploads(10060031);
    expect((await shipOrder(sys.fulfilment, b.order.id, EXPRESS)).shipment).toMatchObject({
      upload: 'REFUSED',
      refusal: { code: 10060031, fix: 'fix the shipment' },
    });
    expect(await syncShipments(sys.fulfilment)).toMatchObject({ examined: 1, uploaded: 1 }); // the PENDING one; REFUSED waits for the operator
    const s = (await sys.store.findShipment(a.order.id))!;
    // A stale copy (an older version) cannot take the shipment: nothing is sent, the stored one stands.
    expect(await uploadShipment(sys.fulfilment, { ...s, version: s.version - 1 }, a.user.openid, a.order.outTradeNo)).toBeNull();
    expect(await sys.store.findShipment(a.order.id)).toEqual(s);
  });

  it('moves forward only, as WeChat reports it: confirmed receipt, then settlement; never back', async () => {
    const sys = await fastSystem();
    const { order, user } = await paid(sys);
    await shipOrder(sys.fulfilment, order.id, EXPRESS);
    sys.shipping.states.set(order.outTradeNo, { state: 'RECEIVED', wechatState: 3 });
    expect(await confirmReceipt(sys.fulfilment, user, order.id)).toMatchObject({ status: 'RECEIVED', wechatState: 3 });
    const push = sys.shipping.readPush({
      Event: 'order moved',
      outTradeNo: order.outTradeNo,
      state: 'COMPLETED',
      wechatState: 4,
      at: 1_900_000_000_000,
    });
    if (push.kind !== 'ORDER_MOVED') throw new Error('the fake reads an order-moved push');
    expect(await applyOrderMoved(sys.fulfilment, push)).toMatchObject({
      status: 'COMPLETED',
      wechatState: 4,
      completedAt: 1_900_000_000_000,
    });
    expect(await advanceShipment(sys.fulfilment, order.id, 'SHIPPED', null, sys.clock.now())).toMatchObject({ status: 'COMPLETED' });
    expect(await checkWithWechat(sys.fulfilment, order.id, order.outTradeNo)).toMatchObject({ status: 'COMPLETED' });
    expect(await shipOrder(sys.fulfilment, order.id, EXPRESS).catch((e: unknown) => e)).toMatchObject({ code: 'SHIPMENT_LOCKED' });
    expect(await applyOrderMoved(sys.fulfilment, { ...push, outTradeNo: 'unknown' })).toBeNull();
    const stranger = await sys.shopper();
    await expect(confirmReceipt(sys.fulfilment, stranger, order.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('claims a shipment before uploading it: two concurrent uploads make one call to WeChat', async () => {
    const sys = await fastSystem();
    const { order } = await paid(sys);
    sys.shipping.failUploads(-1);
    await shipOrder(sys.fulfilment, order.id, EXPRESS); // PENDING: both rounds below would send it again
    const hold = sys.shipping.holdUploads();
    const rounds = [syncShipments(sys.fulfilment), syncShipments(sys.fulfilment)];
    await hold.arrived;
    await new Promise((r) => setTimeout(r, 10)); // the other round has had every chance to call too
    hold.release();
    const reports = await Promise.all(rounds);
    expect(sys.shipping.uploads).toHaveLength(1);
    expect(reports.map((r) => r.uploaded).sort()).toEqual([0, 1]);
    expect(await sys.store.findShipment(order.id)).toMatchObject({ upload: 'ACCEPTED', uploadClaim: null });
  });

  it('keeps the upload’s answer when WeChat’s push moves the shipment while the upload is in flight', async () => {
    const sys = await fastSystem();
    const { order } = await paid(sys);
    const hold = sys.shipping.holdUploads();
    const shipping = shipOrder(sys.fulfilment, order.id, EXPRESS);
    await hold.arrived;
    // WeChat takes the upload and pushes "shipped" before its answer reaches us.
    expect(
      await applyOrderMoved(sys.fulfilment, { outTradeNo: order.outTradeNo, state: 'SHIPPED', wechatState: 2, at: sys.clock.now() }),
    ).toMatchObject({ wechatState: 2 });
    hold.release();
    expect((await shipping).shipment).toMatchObject({ upload: 'ACCEPTED', wechatState: 2 });
    expect(await sys.store.findShipment(order.id)).toMatchObject({ upload: 'ACCEPTED', uploadAttempts: 1 });
  });

  it('leaves a shipment alone while an upload holds it, and takes it again once the hold has lapsed', async () => {
    const sys = await fastSystem();
    const { order } = await paid(sys);
    sys.shipping.failUploads(-1);
    await shipOrder(sys.fulfilment, order.id, EXPRESS);
    const hold = sys.shipping.holdUploads();
    const held = syncShipments(sys.fulfilment);
    await hold.arrived;
    expect(await syncShipments(sys.fulfilment)).toMatchObject({ examined: 0 });
    hold.release();
    await held;
    // A claim whose holder died (no answer ever recorded) lapses: the shipment is sent again.
    const s = (await sys.store.findShipment(order.id))!;
    await sys.store.saveShipment(
      { ...s, upload: 'PENDING', uploadClaim: { owner: 'crashed', until: sys.clock.now() + 1000 }, version: s.version + 1 },
      s.version,
    );
    expect(await syncShipments(sys.fulfilment)).toMatchObject({ examined: 0 });
    sys.clock.advance(1001);
    expect(await syncShipments(sys.fulfilment)).toMatchObject({ examined: 1, uploaded: 1 });
  });
});
