// HTML for the ops page, built from tagged templates: every interpolated value is escaped unless it is
// markup built here (Raw). Money and time as the operator reads them: yuan, Beijing time.
export class Raw {
  constructor(readonly html: string) {}
}
export const raw = (markup: string) => new Raw(markup);

export const esc = (v: unknown): string =>
  v instanceof Raw
    ? v.html
    : Array.isArray(v)
      ? v.map(esc).join('')
      : v === null || v === undefined
        ? ''
        : String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const html = (strings: TemplateStringsArray, ...values: unknown[]) =>
  raw(strings.reduce((out, s, i) => out + s + (i < values.length ? esc(values[i]) : ''), ''));

export const yuan = (fen: number) => `¥${(fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
export const time = (iso: string | number | null) =>
  iso === null ? '—' : new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

/** A whole page: the header (with 退出 once signed in), the body, the stylesheet. */
export function page(title: string, body: Raw, opts: { signedIn?: boolean } = {}): string {
  const logout = opts.signedIn
    ? html`<form method="post" action="/admin/logout"><button class="secondary" type="submit">退出</button></form>`
    : '';
  return html`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · 运营后台</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/admin/ops.css"></head>
<body><header><a href="/admin">运营后台 · Ops</a><span>${title}</span>${logout}</header>
<main>${body}</main></body></html>`.html;
}

/** A banner at the top of a page. */
export const banner = (text: string, error = false) => html`<div class="flash${error ? ' error' : ''}" role="status">${text}</div>`;
