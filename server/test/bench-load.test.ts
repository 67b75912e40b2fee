// The bench's own measuring: a rate it prints must be what was sent over how long it took.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { load } from '../../bench/load';

describe('bench load', () => {
  // Each answer takes 20 ms, so four connections make ~200 requests a second; the server notes when
  // the first request came and when the last answer went.
  let first = 0;
  let last = 0;
  const server = http.createServer((_req, res) => {
    first ||= performance.now();
    setTimeout(() => {
      res.end('ok');
      last = performance.now();
    }, 20);
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
  afterAll(() => new Promise((r) => server.close(r)));

  it('reports a fixed amount of requests as that amount over the time they took', async () => {
    const url = await listening;
    const r = await load({ url, connections: 4, amount: 120 });
    const served = (last - first) / 1000;
    expect(r.non2xx + r.errors).toBe(0);
    // ~0.6 s of work. autocannon ends such a run on a whole second and averages whole-second buckets:
    // it would say 120/s.
    expect(r.rate).toBeGreaterThan((120 / served) * 0.85);
    expect(r.rate).toBeLessThan((120 / served) * 1.15);
  });
});
