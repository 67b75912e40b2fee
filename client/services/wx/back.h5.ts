// In the browser, a popstate the payment sheet takes for itself must never reach Taro's router: the
// router would rebuild the page under the sheet. Listeners on window run in the order they were added,
// capture or not, so this one is added when the app's modules load, before the router creates its
// history (app.ts imports this file); it hands a claimed popstate to whoever claimed it, and stops it.
let claim: ((e: PopStateEvent) => void) | null = null;

window.addEventListener('popstate', (e) => {
  if (!claim) return;
  const take = claim;
  claim = null;
  e.stopImmediatePropagation();
  take(e);
});

/** The next popstate goes to `take` and nowhere else; returns a function that gives the claim up. */
export function claimNextPopstate(take: (e: PopStateEvent) => void): () => void {
  claim = take;
  return () => {
    if (claim === take) claim = null;
  };
}
