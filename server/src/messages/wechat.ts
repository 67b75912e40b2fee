// The message-sender port over WeChat's subscribe messages (subscribe.md §3–4): POST /cgi-bin/message/subscribe/send with the access
// token, each value fitted to its keyword's rule — a thing cut to 20 characters, an order number kept ASCII and
// ≤ 32, an amount in yuan, a time in Beijing — so WeChat takes it rather than answering 47003. The template list
// (GET /wxaapi/newtmpl/gettemplate) lets the doctor check the configuration.
import { MessageSendError, type MessageSender, type MessageValues } from '../domain/ports/message-sender';
import type { MessageKind } from '../domain/subscription';
import { WechatApiError, type WechatAnswer } from '../wechat/access-token';

export type KeywordMap = Partial<Record<keyof MessageValues, string>>;
export interface TemplateConfig {
  id: string;
  keywords: KeywordMap;
}

/** 43101 refused / no credit, 40003 bad openid, 40037 bad template, 47003 bad data, 41030 bad page: never retried. */
const FINAL = new Set([43101, 40003, 40037, 47003, 41030]);

const chars = (s: string) => [...s];
/** One value, fitted to its keyword type's rule. */
export function fitValue(keyword: string, v: string | number): string {
  const type = keyword.replace(/\d+$/, '');
  const text = String(v);
  switch (type) {
    case 'thing': {
      const clean = chars(text.replace(/[\u{10000}-\u{10FFFF}]/gu, '')).join('');
      return chars(clean).length <= 20 ? clean : `${chars(clean).slice(0, 19).join('')}…`;
    }
    case 'character_string':
      return text.replace(/[^\x21-\x7e]/g, '').slice(0, 32);
    case 'phrase':
      return chars(text).slice(0, 5).join('');
    case 'number':
    case 'letter':
      return text.slice(0, 32);
    default:
      return text;
  }
}

const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;
const beijing = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');

export function createWechatMessages(o: {
  templates: Partial<Record<MessageKind, TemplateConfig>>;
  api: { request(path: string, body: unknown): Promise<WechatAnswer> };
}): MessageSender {
  return {
    templateOf: (kind) => o.templates[kind]?.id ?? null,
    async send({ openid, kind, page, values }) {
      const t = o.templates[kind];
      if (!t) throw new MessageSendError(`no template configured for ${kind}`, null, true);
      const data: Record<string, { value: string }> = {};
      for (const [field, keyword] of Object.entries(t.keywords) as [keyof MessageValues, string][]) {
        const v = values[field];
        if (v === undefined) continue;
        const shown = field === 'amount' ? yuan(v as number) : field === 'time' ? beijing(v as number) : String(v);
        data[keyword] = { value: fitValue(keyword, shown) };
      }
      try {
        await o.api.request('/cgi-bin/message/subscribe/send', {
          touser: openid,
          template_id: t.id,
          page,
          data,
          miniprogram_state: 'formal',
          lang: 'zh_CN',
        });
      } catch (err) {
        if (err instanceof WechatApiError)
          throw new MessageSendError(err.message, err.errcode, err.errcode !== null && FINAL.has(err.errcode));
        throw err;
      }
    },
  };
}
