import type { PropsWithChildren } from 'react';
import './app.css';

// Pages are the app's children; login happens on the login page, the first one.
function App({ children }: PropsWithChildren) {
  return children;
}

export default App;
