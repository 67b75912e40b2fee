// Build-time settings (config/index.ts → defineConstants; the payment mode is read where it is used, wx/index.ts). The browser build also takes the
// sandbox's address from the page the server serves, so it works whatever ports are in use.
declare global {
  interface Window {
    __CHECKOUT_CONFIG__?: { sandboxBase?: string | null };
  }
}

const runtime = typeof window !== 'undefined' ? window.__CHECKOUT_CONFIG__ : undefined;

export const API_BASE: string = typeof __API_BASE__ === 'string' ? __API_BASE__ : '';
export const SANDBOX_BASE: string =
  runtime?.sandboxBase ?? (typeof __SANDBOX_BASE__ === 'string' ? __SANDBOX_BASE__ : 'http://127.0.0.1:3100');
