// wx.request / Taro.request as the tests stand them in: a real HTTP request from Node, answered the
// way the mini-program runtime answers (JSON bodies parsed, other bodies kept as text).
import http from 'node:http';

export interface WxRequest {
  url: string;
  method?: string;
  header?: Record<string, string>;
  data?: unknown;
}
export interface WxResponse {
  statusCode: number;
  data: unknown;
  header: Record<string, unknown>;
}

/** Resolves with the response, or rejects with `{ errMsg: 'request:fail' }` when nothing answers. */
export function requestOverHttp(o: WxRequest) {
  return new Promise<WxResponse>((resolve, reject) => {
    const body = o.data === undefined ? undefined : typeof o.data === 'string' ? o.data : JSON.stringify(o.data);
    const req = http.request(
      o.url,
      { method: o.method ?? 'GET', headers: { ...o.header, ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let data: unknown = text;
          try {
            data = text ? JSON.parse(text) : '';
          } catch {
            // keep the text, as the runtime does for non-JSON bodies
          }
          resolve({ statusCode: res.statusCode ?? 0, data, header: res.headers });
        });
      },
    );
    req.on('error', () => reject({ errMsg: 'request:fail' }));
    if (body) req.write(body);
    req.end();
  });
}
