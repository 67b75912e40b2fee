// Small charts as inline SVG (the page runs no script).
import { html, type Raw } from './html';

/** One bar per bucket, each labelled with its value; every fourth bucket's label under it (all of them when there are few). */
export function bars(title: string, buckets: { label: string; value: number }[], color = '#07c160'): Raw {
  const w = 24 * buckets.length;
  const h = 90;
  const max = Math.max(1, ...buckets.map((b) => b.value));
  const rects = buckets.map((b, i) => {
    const bh = Math.round((b.value / max) * (h - 30));
    const label =
      i % 4 === 0 || buckets.length <= 8 ? html`<text x="${i * 24 + 12}" y="${h - 2}" text-anchor="middle">${b.label}</text>` : '';
    const value = b.value ? html`<text x="${i * 24 + 12}" y="${h - 17 - bh}" text-anchor="middle">${b.value}</text>` : '';
    return html`<rect x="${i * 24 + 3}" y="${h - 14 - bh}" width="18" height="${bh}" fill="${color}"><title>${b.label}: ${b.value}</title></rect>${label}${value}`;
  });
  return html`<figure><figcaption class="muted">${title}</figcaption><svg role="img" aria-label="${title}" viewBox="0 0 ${Math.max(w, 100)} ${h}" width="100%">${rects}</svg></figure>`;
}
