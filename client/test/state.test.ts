import { describe, expect, it } from 'vitest';
import { parseOutcome, resultView } from '../pages/result/state';

const order = (status: 'PENDING' | 'PAID' | 'CLOSED') => ({ status }) as never;

describe('result page state', () => {
  it('follows the server first, the payment sheet only for wording', () => {
    expect(resultView(order('PAID'), { outcome: 'cancel' }, false, null)).toEqual({ kind: 'paid' });
    expect(resultView(order('CLOSED'), { outcome: 'ok' }, false, null)).toEqual({ kind: 'closed' });
    expect(resultView(order('PENDING'), { outcome: 'ok' }, true, null)).toEqual({ kind: 'confirming' });
    expect(resultView(order('PENDING'), { outcome: 'ok' }, false, null)).toEqual({ kind: 'unconfirmed' });
    expect(resultView(order('PENDING'), { outcome: 'cancel' }, false, null)).toEqual({ kind: 'cancelled' });
    expect(resultView(order('PENDING'), { outcome: 'fail', message: 'x' }, false, null)).toEqual({ kind: 'failed', reason: 'x' });
    expect(resultView(null, { outcome: 'ok' }, true, null)).toEqual({ kind: 'loading' });
    expect(resultView(null, { outcome: 'ok' }, false, 'boom')).toEqual({ kind: 'error', message: 'boom' });
  });

  it('reads the outcome from the page URL', () => {
    expect(parseOutcome('ok', undefined)).toEqual({ outcome: 'ok' });
    expect(parseOutcome('cancel', 'x')).toEqual({ outcome: 'cancel' });
    expect(parseOutcome('fail', encodeURIComponent('余额不足'))).toEqual({ outcome: 'fail', message: '余额不足' });
    expect(parseOutcome(undefined, undefined)).toEqual({ outcome: 'fail', message: '' });
  });
});
