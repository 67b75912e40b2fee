// '@tarojs/components' for happy-dom: the same props mapped to plain elements.
import type { ReactNode } from 'react';

type Props = { children?: ReactNode; className?: string; onClick?: () => void; [k: string]: unknown };

export const View = ({ children, className, ...rest }: Props) => (
  <div className={className} {...pass(rest)}>
    {children}
  </div>
);

export const Text = ({ children, className, ...rest }: Props) => (
  <span className={className} {...pass(rest)}>
    {children}
  </span>
);

export const Button = ({ children, className, onClick, disabled, loading, type: _type, size: _size, ...rest }: Props) => (
  <button className={className} disabled={Boolean(disabled)} data-loading={loading ? 'true' : undefined} onClick={onClick} {...pass(rest)}>
    {children}
  </button>
);

function pass(rest: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(rest).filter(([k]) => k.startsWith('aria-') || k.startsWith('data-') || k === 'role'));
}

export const Image = ({ className, src, ...rest }: Props & { src?: string }) => (
  <img className={className} src={src} alt="" {...pass(rest)} />
);
