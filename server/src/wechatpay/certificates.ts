// WeChat Pay's platform certificates (protocol.md §5.3): GET /v3/certificates lists them, each encrypted with
// the APIv3 key; the list is trusted only when its answer is signed by a certificate from the list itself (or
// by a key we already hold) and every certificate decrypts (the GCM tag proves the APIv3 key's holder wrote
// it). The keeper holds every valid certificate by serial, drops expired ones, refreshes on a schedule and —
// rate-limited — when a message names a serial it does not hold, and caches the list so a restart during an
// outage still verifies. A merchant with only a WeChat Pay public key gets RESOURCE_NOT_EXISTS: no error.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { aesGcmDecrypt, responseMessage, rsaVerify } from './crypto';
import { MAX_SKEW_S } from './time';

export interface PlatformCertificate {
  serial: string;
  pem: string;
  notBefore: number;
  notAfter: number;
  publicKey: KeyObject;
}

export class CertificateListRejected extends Error {
  constructor(
    readonly reason: 'MALFORMED' | 'DECRYPT_FAILED' | 'NOT_A_CERTIFICATE' | 'UNSIGNED' | 'BAD_SIGNATURE' | 'STALE',
    message: string,
  ) {
    super(message);
    this.name = 'CertificateListRejected';
  }
}

interface EncryptedCertificate {
  serial_no?: unknown;
  effective_time?: unknown;
  expire_time?: unknown;
  encrypt_certificate?: { algorithm?: unknown; nonce?: unknown; associated_data?: unknown; ciphertext?: unknown };
}

/** A certificate from its PEM: serial (upper-case hex) and validity. */
export function certificateOf(pem: string): PlatformCertificate {
  const x = new crypto.X509Certificate(pem);
  return {
    serial: x.serialNumber.toUpperCase(),
    pem,
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
    publicKey: x.publicKey,
  };
}

/** Decrypts one `encrypt_certificate` (AEAD_AES_256_GCM, associated data `certificate`) to its PEM. */
export function decryptCertificate(apiV3Key: string, e: EncryptedCertificate['encrypt_certificate']): string {
  if (e?.algorithm !== 'AEAD_AES_256_GCM' || typeof e.nonce !== 'string' || typeof e.ciphertext !== 'string') {
    throw new CertificateListRejected('MALFORMED', 'encrypt_certificate is not AEAD_AES_256_GCM with a nonce and a ciphertext');
  }
  try {
    return aesGcmDecrypt(apiV3Key, e.nonce, typeof e.associated_data === 'string' ? e.associated_data : '', e.ciphertext);
  } catch {
    throw new CertificateListRejected('DECRYPT_FAILED', 'a certificate did not decrypt with the APIv3 key (tampered, or another key)');
  }
}

export interface SignedAnswer {
  body: string;
  serial: string | null;
  signature: string | null;
  timestamp: string | null;
  nonce: string | null;
}

/**
 * The certificates of one /v3/certificates answer, trusted or refused whole. The answer must be fresh and
 * signed by a certificate of the list (the bootstrap every SDK does) or by a key we already hold
 * (`known`, e.g. the WeChat Pay public key); each certificate must decrypt with the APIv3 key and be one.
 */
export function readCertificateList(
  answer: SignedAnswer,
  apiV3Key: string,
  nowMs: number,
  known: (serial: string) => KeyObject | null = () => null,
): PlatformCertificate[] {
  let parsed: { data?: EncryptedCertificate[] };
  try {
    parsed = JSON.parse(answer.body) as { data?: EncryptedCertificate[] };
  } catch {
    throw new CertificateListRejected('MALFORMED', 'the certificate list is not JSON');
  }
  if (!Array.isArray(parsed?.data)) throw new CertificateListRejected('MALFORMED', 'the certificate list has no data array');
  const certificates = parsed.data.map((entry) => {
    const pem = decryptCertificate(apiV3Key, entry.encrypt_certificate);
    let cert: PlatformCertificate;
    try {
      cert = certificateOf(pem);
    } catch {
      throw new CertificateListRejected('NOT_A_CERTIFICATE', 'a decrypted entry is not an X.509 certificate');
    }
    if (typeof entry.serial_no === 'string' && entry.serial_no.toUpperCase() !== cert.serial) {
      throw new CertificateListRejected('NOT_A_CERTIFICATE', `serial_no ${entry.serial_no} is not the certificate's own (${cert.serial})`);
    }
    return cert;
  });
  const { serial, signature, timestamp, nonce } = answer;
  if (!serial || !signature || !timestamp || !nonce) throw new CertificateListRejected('UNSIGNED', 'the certificate list is not signed');
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) >= MAX_SKEW_S) {
    throw new CertificateListRejected('STALE', 'the certificate list is more than 5 minutes old');
  }
  const key = certificates.find((c) => c.serial === serial.toUpperCase())?.publicKey ?? known(serial);
  if (!key || !rsaVerify(key, responseMessage(timestamp, nonce, answer.body), signature)) {
    throw new CertificateListRejected('BAD_SIGNATURE', `the certificate list is not signed as WeChat Pay signs (serial ${serial})`);
  }
  return certificates;
}

export interface KeeperLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export type CertificateFetch = () => Promise<
  { kind: 'LIST'; answer: SignedAnswer } | { kind: 'NONE'; message: string } // NONE: a public-key-only merchant
>;

export interface CertificateKeeper {
  /** The valid certificate with this serial, or null (unknown, or expired at `now`). */
  key(serial: string): KeyObject | null;
  /** Every certificate held, expired ones dropped. */
  certificates(): PlatformCertificate[];
  /** Downloads the list now; the certificates held stay when the download fails or is refused. */
  refresh(): Promise<{ ok: boolean; detail: string }>;
  /** A message named a serial we do not hold: refresh, at most once per `minGapMs`; true when the serial is now held. */
  refreshFor(serial: string): Promise<boolean>;
  /** Refresh every `everyMs` (≤ 12 h) until stopped. */
  start(everyMs: number): void;
  stop(): void;
  /** When the last refresh succeeded, and what the last one said. */
  status(): { lastSuccessAt: number | null; lastDetail: string; publicKeyOnly: boolean };
}

export interface KeeperOptions {
  fetch: CertificateFetch;
  apiV3Key: string;
  now: () => number;
  log: KeeperLog;
  /** Certificates given by configuration (WECHATPAY_PLATFORM_CERT_FILES): held besides the downloaded ones. */
  configured?: string[];
  /** Keys we hold already (the WeChat Pay public key), to verify a list signed by one. */
  known?: (serial: string) => KeyObject | null;
  /** Where the downloaded list is cached (a restart during an outage still verifies); null: no cache. */
  cacheFile: string | null;
  /** The least time between two refreshes asked for by an unknown serial. */
  minGapMs?: number;
}

export function createCertificateKeeper(o: KeeperOptions): CertificateKeeper {
  const held = new Map<string, PlatformCertificate>();
  const configured = new Set<string>();
  for (const pem of o.configured ?? []) {
    const c = certificateOf(pem);
    held.set(c.serial, c);
    configured.add(c.serial);
  }
  let lastSuccessAt: number | null = null;
  let lastDetail = 'not downloaded yet';
  let publicKeyOnly = false;
  let lastAskedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<{ ok: boolean; detail: string }> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const minGapMs = o.minGapMs ?? 60_000;

  // The cache: the PEMs as last downloaded (public data; their trust was checked when they were downloaded).
  if (o.cacheFile && fs.existsSync(o.cacheFile)) {
    try {
      const cached = JSON.parse(fs.readFileSync(o.cacheFile, 'utf8')) as { certificates?: string[] };
      for (const pem of cached.certificates ?? []) {
        const c = certificateOf(pem);
        if (c.notAfter > o.now()) held.set(c.serial, c);
      }
    } catch (err) {
      o.log.warn({ file: o.cacheFile, err: (err as Error).message }, 'cached platform certificates unreadable; downloading afresh');
    }
  }
  const dropExpired = () => {
    for (const [serial, c] of held) if (c.notAfter <= o.now()) held.delete(serial);
  };
  const save = () => {
    if (!o.cacheFile) return;
    const tmp = `${o.cacheFile}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(o.cacheFile), { recursive: true });
    fs.writeFileSync(
      tmp,
      `${JSON.stringify({ savedAt: new Date(o.now()).toISOString(), certificates: [...held.values()].map((c) => c.pem) }, null, 2)}\n`,
    );
    fs.renameSync(tmp, o.cacheFile);
  };

  async function download(): Promise<{ ok: boolean; detail: string }> {
    try {
      const got = await o.fetch();
      if (got.kind === 'NONE') {
        publicKeyOnly = true;
        lastSuccessAt = o.now();
        lastDetail = `no platform certificate: ${got.message} (the WeChat Pay public key verifies)`;
        return { ok: true, detail: lastDetail };
      }
      const fresh = readCertificateList(
        got.answer,
        o.apiV3Key,
        o.now(),
        (serial) => held.get(serial.toUpperCase())?.publicKey ?? o.known?.(serial) ?? null,
      );
      const before = new Set(held.keys());
      // The genuine list is the whole truth: a downloaded certificate it no longer names is gone (configured ones stay).
      for (const serial of [...held.keys()]) if (!configured.has(serial)) held.delete(serial);
      for (const c of fresh) if (c.notAfter > o.now()) held.set(c.serial, c);
      dropExpired();
      save();
      publicKeyOnly = false;
      lastSuccessAt = o.now();
      const added = [...held.keys()].filter((s) => !before.has(s));
      const dropped = [...before].filter((s) => !held.has(s));
      lastDetail = `${held.size} certificate(s): ${[...held.keys()].join(', ')}`;
      if (added.length || dropped.length) o.log.info({ added, dropped, held: [...held.keys()] }, 'platform certificates downloaded');
      return { ok: true, detail: lastDetail };
    } catch (err) {
      lastDetail = (err as Error).message;
      const refused = err instanceof CertificateListRejected;
      o.log[refused ? 'error' : 'warn'](
        { reason: refused ? err.reason : 'UNREACHABLE', err: lastDetail, held: [...held.keys()] },
        refused
          ? 'platform certificate list refused; the certificates held stay in use'
          : 'platform certificates not refreshed; the ones held stay in use',
      );
      return { ok: false, detail: lastDetail };
    }
  }
  const refresh = () => {
    inFlight ??= download().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const key = (serial: string): KeyObject | null => {
    const c = held.get(serial.toUpperCase());
    if (!c) return null;
    const now = o.now();
    return c.notBefore <= now && now < c.notAfter ? c.publicKey : null;
  };
  return {
    key,
    certificates() {
      dropExpired();
      return [...held.values()];
    },
    refresh,
    async refreshFor(serial) {
      if (held.has(serial.toUpperCase())) return key(serial) !== null;
      // A download already under way (many messages naming the new serial at once): wait for it.
      if (inFlight) {
        await inFlight;
        return key(serial) !== null;
      }
      if (o.now() - lastAskedAt < minGapMs) return false;
      lastAskedAt = o.now();
      await refresh();
      return key(serial) !== null;
    },
    start(everyMs) {
      const tick = () => {
        timer = setTimeout(() => {
          void refresh().finally(tick);
        }, everyMs);
        timer.unref();
      };
      tick();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    status: () => ({ lastSuccessAt, lastDetail, publicKeyOnly }),
  };
}
