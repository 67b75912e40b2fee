// The one clock the server reads. Tests inject their own to test expiry and skew without sleeping.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
