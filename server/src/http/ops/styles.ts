// The ops page's one stylesheet, served at /admin/ops.css (the page's CSP allows styles from itself only).
export const OPS_CSS = [
  'body{font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1f2329;background:#f5f6f7}',
  'header{background:#07c160;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}',
  'header a{color:#fff;text-decoration:none;font-weight:600}header form{margin-left:auto}',
  'main{padding:16px 20px;max-width:1200px}section{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 16px}',
  'h1{font-size:18px;margin:0}h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}',
  'th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}th{color:#646a73;font-weight:500}',
  'td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#8f959e}.ok{color:#07a85a}.warn{color:#d83931}.pending{color:#de7802}',
  'form.inline{display:flex;gap:8px;flex-wrap:wrap;align-items:end}label{display:flex;flex-direction:column;font-size:12px;color:#646a73;gap:2px}',
  'input,select,button{font:inherit;padding:6px 10px;border:1px solid #d0d3d6;border-radius:6px;min-height:36px;box-sizing:border-box}',
  'button{background:#07c160;color:#fff;border-color:#07c160;cursor:pointer}button.secondary{background:#fff;color:#1f2329;border-color:#d0d3d6}',
  '.flash{padding:8px 12px;border-radius:6px;background:#e8f8ef;margin-bottom:12px}.flash.error{background:#fdecec}',
  '.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px}svg text{font-size:10px;fill:#646a73}code{font-size:12px}',
  '.narrow{max-width:420px}figure{margin:0}.spaced{margin-top:12px}label.check{flex-direction:row;align-items:center;gap:6px}',
].join('\n');
