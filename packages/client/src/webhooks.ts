/**
 * Verifies a baton webhook delivery: `Baton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
 * keyed with the shared secret (`BATON_WEBHOOK_SECRET`). Uses Web Crypto, so it runs in Node, browsers and edge
 * runtimes. Pass the body exactly as received (before any JSON parsing).
 */

export interface VerifyOptions {
  /** How old a signature may be (replay protection); default 300 s. */
  toleranceSeconds?: number;
  /** Now, in seconds since the epoch (tests). */
  now?: number;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares without stopping at the first difference. */
function equalStrings(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The hex HMAC-SHA256 signature of `<timestamp>.<body>`. */
export async function signWebhook(body: string, secret: string, timestamp: number): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`)));
}

/** True when the delivery is signed with `secret` within the tolerance; false otherwise. */
export async function verifyWebhook(
  headers: HeaderBag,
  rawBody: string,
  secret: string,
  options: VerifyOptions = {},
): Promise<boolean> {
  const signature = header(headers, 'baton-signature');
  if (!signature) return false;
  const parts = signature.split(',').map((p) => p.trim().split('=') as [string, string | undefined]);
  const timestamp = Number(parts.find(([k]) => k === 't')?.[1]);
  const candidates = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v as string);
  if (!Number.isInteger(timestamp) || candidates.length === 0) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = await signWebhook(rawBody, secret, timestamp);
  return candidates.some((candidate) => equalStrings(candidate, expected));
}
