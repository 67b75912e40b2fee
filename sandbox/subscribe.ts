// Subscribe messages as WeChat handles them (subscribe.md): the mini program's three one-time templates, the
// subscription dialog's answers (accept, reject, ban; the main switch), one credit per acceptance, and
// /cgi-bin/message/subscribe/send with WeChat's validation and errcodes, keeping every delivered message so
// tests (and a person) can read them.
import crypto from 'node:crypto';
import express, { type Router } from 'express';
import type { ShippingSandbox } from './shipping';
import { type SandboxState, userFor } from './state';
import { sandboxTemplates, type SandboxTemplate } from './templates';

/** The pages of the released mini program (app.json): `page` must be one of them, with any query. */
const PAGES = ['pages/checkout/index', 'pages/login/index', 'pages/result/index', 'pages/orders/index'];

/** subscribe.md §4: each keyword type's rule. */
const RULES: Record<string, (v: string) => boolean> = {
  thing: (v) => [...v].length <= 20 && !/[\u{10000}-\u{10FFFF}]/u.test(v),
  character_string: (v) => v.length <= 32 && /^[\x21-\x7e]+$/.test(v),
  amount: (v) => /^[¥￥$]?\d{1,10}(\.\d{1,2})?元?$/.test(v),
  time: (v) => /^(\d{4}[-年/]\d{1,2}[-月/]\d{1,2}日?\s*)?\d{1,2}:\d{2}(:\d{2})?$/.test(v),
  phrase: (v) => [...v].length <= 5 && /^[\u4e00-\u9fa5]+$/.test(v),
};

export interface DeliveredMessage {
  openid: string;
  templateId: string;
  page: string;
  data: Record<string, { value: string }>;
  at: string;
}

export interface SandboxSubscribe {
  templates: SandboxTemplate[];
  messages: DeliveredMessage[];
  /** Loopback: the dialog's stand-in and the log (mounted under /sandbox). */
  controlRoutes: Router;
  routes: Router;
}

export function createSandboxSubscribe(s: SandboxState, shipping: ShippingSandbox): SandboxSubscribe {
  const templates = sandboxTemplates(s.keys.appid);
  const byId = new Map(templates.map((t) => [t.id, t]));
  const credits = new Map<string, number>();
  const messages: DeliveredMessage[] = [];
  const key = (openid: string, id: string) => `${openid}|${id}`;

  const controlRoutes = express.Router();
  // The subscription dialog, as the client's sandbox mode shows it: one answer per template, each accept one credit.
  controlRoutes.post('/subscribe', express.json({ limit: '16kb' }), (req, res) => {
    const b = (req.body ?? {}) as { openid?: unknown; user?: unknown; answers?: unknown; mainSwitch?: unknown };
    // The client's sandbox mode names its test user (it never sees an openid, as in WeChat).
    if (typeof b.user === 'string' && /^[\w-]{1,64}$/.test(b.user)) b.openid = userFor(s, b.user).openid;
    if (typeof b.openid !== 'string' || !s.openids.has(b.openid))
      return res.status(400).json({ errMsg: 'requestSubscribeMessage:fail invalid openid', errCode: 10004 });
    if (b.mainSwitch === false) return res.json({ errMsg: 'requestSubscribeMessage:fail The main switch is switched off', errCode: 20004 });
    if (!b.answers || typeof b.answers !== 'object')
      return res.status(400).json({ errMsg: "requestSubscribeMessage:fail TmplIds can't be empty", errCode: 10001 });
    const answers = Object.entries(b.answers as Record<string, unknown>);
    if (answers.length === 0) return res.json({ errMsg: "requestSubscribeMessage:fail TmplIds can't be empty", errCode: 10001 });
    if (answers.length > 5) return res.json({ errMsg: 'requestSubscribeMessage:fail Templates count out of max bounds', errCode: 20003 });
    const result: Record<string, string> = { errMsg: 'requestSubscribeMessage:ok' };
    for (const [id, answer] of answers) {
      if (!byId.has(id))
        return res.json({ errMsg: 'requestSubscribeMessage:fail No template data return, verify the template id exist', errCode: 20001 });
      if (answer !== 'accept' && answer !== 'reject' && answer !== 'ban')
        return res.status(400).json({ errMsg: `answer for ${id}: accept, reject or ban` });
      result[id] = answer;
      if (answer === 'accept') credits.set(key(b.openid, id), (credits.get(key(b.openid, id)) ?? 0) + 1);
    }
    res.json(result);
  });
  controlRoutes.get('/subscribe-messages', (req, res) => {
    const openid =
      typeof req.query.openid === 'string'
        ? req.query.openid
        : typeof req.query.user === 'string'
          ? userFor(s, req.query.user).openid
          : null;
    res.json({ messages: openid ? messages.filter((m) => m.openid === openid) : messages });
  });
  controlRoutes.get('/subscribe-credits', (req, res) => {
    const openid = String(req.query.openid ?? '');
    res.json({ credits: Object.fromEntries(templates.map((t) => [t.name, credits.get(key(openid, t.id)) ?? 0])) });
  });

  const routes = express.Router();
  routes.post(
    '/cgi-bin/message/subscribe/send',
    ...shipping.business((_req, res, b) => {
      const answer = (errcode: number, errmsg: string) =>
        res.json({ errcode, errmsg: `${errmsg} rid: ${crypto.randomBytes(8).toString('hex')}` });
      const touser = b.touser;
      if (typeof touser !== 'string' || !s.openids.has(touser)) return answer(40003, 'invalid openid');
      const t = typeof b.template_id === 'string' ? byId.get(b.template_id) : undefined;
      if (!t) return answer(40037, 'invalid template_id');
      if (b.page !== undefined && (typeof b.page !== 'string' || !PAGES.includes(b.page.split('?')[0]!)))
        return answer(41030, 'invalid page');
      if (b.miniprogram_state !== undefined && !['developer', 'trial', 'formal'].includes(String(b.miniprogram_state)))
        return answer(47001, 'data format error');
      const data = (b.data ?? {}) as Record<string, { value?: unknown }>;
      for (const k of t.keywords) {
        const v = data[k.key]?.value;
        if (typeof v !== 'string' || v === '') return answer(47003, `argument invalid! data.${k.key}.value is empty`);
        const rule = RULES[k.key.replace(/\d+$/, '')];
        if (rule && !rule(v)) return answer(47003, `argument invalid! data.${k.key}.value invalid`);
      }
      const left = credits.get(key(touser, t.id)) ?? 0;
      if (left <= 0) return answer(43101, 'user refuse to accept the msg');
      credits.set(key(touser, t.id), left - 1);
      messages.push({
        openid: touser,
        templateId: t.id,
        page: String(b.page ?? ''),
        data: Object.fromEntries(t.keywords.map((k) => [k.key, { value: String(data[k.key]!.value) }])),
        at: new Date(s.now()).toISOString(),
      });
      answer(0, 'ok');
    }),
  );
  routes.get('/wxaapi/newtmpl/gettemplate', (req, res) => {
    const problem = shipping.checkToken(typeof req.query.access_token === 'string' ? req.query.access_token : '');
    if (problem) return res.json({ errcode: problem[0], errmsg: problem[1] });
    res.json({
      errcode: 0,
      errmsg: 'ok',
      data: templates.map((t) => ({
        priTmplId: t.id,
        title: t.title,
        content: t.keywords.map((k) => `${k.label}:{{${k.key}.DATA}}\n`).join(''),
        example: '',
        type: 2,
      })),
    });
  });
  return { templates, messages, controlRoutes, routes };
}
