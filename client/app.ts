import type { PropsWithChildren } from 'react';
import './app.css';

// Pages are the app's children. The shop is the first page and logs in silently; the login page
// appears only when that fails.
function App({ children }: PropsWithChildren) {
  return children;
}

export default App;
