// The junk-notification flood of issue 9, from a process of its own so that the probe measuring the
// shop's latency does not share an event loop with the flood's client. Usage:
//   tsx bench/junk-flood.ts <api> <count> <rate per second>
// Prints one JSON line: what the flood achieved.
import { load } from './load';

const [api, count = '2000', rate = '1000'] = process.argv.slice(2);
if (!api) throw new Error('usage: junk-flood.ts <api> [count] [rate]');
let i = 0;
load({
  url: `${api}/api/wechatpay/notify`,
  connections: 8,
  amount: Number(count),
  overallRate: Number(rate),
  method: 'POST',
  requests: [
    {
      setupRequest: (req) => ({
        ...req,
        body: `junk-${i++}-${'x'.repeat(200)}`,
        headers: {
          'Wechatpay-Serial': 'S'.repeat(4000),
          'Request-ID': 'R'.repeat(4000),
          'Wechatpay-Signature': 'x',
          'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
          'Wechatpay-Nonce': 'n',
        },
      }),
    },
  ],
}).then((r) => console.log(JSON.stringify({ sent: r.sent, rate: r.rate, non2xx: r.non2xx, errors: r.errors })));
