// In the mini program the payment sheet is WeChat's own: no history to guard (see back.h5.ts).
export function claimNextPopstate(_take: (e: PopStateEvent) => void): () => void {
  return () => undefined;
}
