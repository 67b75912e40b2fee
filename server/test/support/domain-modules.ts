// What each module of server/src/domain is, for the tests that check the layers: entity modules hold
// types and the rules of one thing (the ports may import them); the rest, but for wiring types and
// errors, are use cases (each must be called by the fast tier).
export const ENTITY_MODULES = [
  'book-day',
  'complaint',
  'subscription',
  'catalog',
  'money',
  'notification',
  'ops-session',
  'order',
  'refund',
  'shipment',
  'user',
] as const;
/** Neither entities nor use cases: the use cases' dependency bundle and the domain's error type. */
export const WIRING_MODULES = ['deps', 'errors'] as const;
