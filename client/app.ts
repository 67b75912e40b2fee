import { useDidShow } from '@tarojs/taro';
import type { PropsWithChildren } from 'react';
import { noteAppShow } from './services/receipt-return';
// First, before the router: the payment sheet's hold on Back (browser only; nothing in the mini program).
import './services/wx/back';
import './app.css';

// Pages are the app's children. The shop is the first page and logs in silently; the login page
// appears only when that fails.
function App({ children }: PropsWithChildren) {
  // Back from WeChat's confirm-receipt component: note its answer for the orders page.
  useDidShow((options?: unknown) => noteAppShow(options as Parameters<typeof noteAppShow>[0]));
  return children;
}

export default App;
