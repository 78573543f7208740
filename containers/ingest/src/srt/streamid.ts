/**
 * SRT streamid parsing. The same rules run natively inside libsrt's listen callback
 * (containers/ingest/native/src/streamid.cc); a test checks the two agree.
 *
 * Accepted:
 * - the access-control syntax `#!::r=<streamId>,m=publish,s=<publishKey>` (u= instead of s= also works;
 *   m= defaults to publish, h= is ignored, t= must be stream);
 * - a plain `<publishKey>`, looked up by key.
 * Printable ASCII only, 1 to 512 characters.
 */
export const MAX_STREAMID_LENGTH = 512;
const ACCESS_CONTROL_PREFIX = '#!::';
const KNOWN_KEYS = new Set(['r', 'm', 's', 'u', 'h', 't']);

export type ParsedStreamId =
  | { ok: true; streamId: string | null; publishKey: string; mode: string }
  | { ok: false; reason: string };

function fail(reason: string): ParsedStreamId {
  return { ok: false, reason };
}

export function parseStreamId(raw: string): ParsedStreamId {
  if (raw.length === 0) return fail('empty streamid');
  if (raw.length > MAX_STREAMID_LENGTH) return fail('streamid longer than 512 characters');
  if (!/^[\x20-\x7e]*$/.test(raw)) return fail('streamid contains characters outside printable ASCII');
  if (!raw.startsWith('#!')) return { ok: true, streamId: null, publishKey: raw, mode: 'publish' };
  if (!raw.startsWith(ACCESS_CONTROL_PREFIX)) return fail('streamid starts with #! but not #!::');

  const values = new Map<string, string>();
  for (const item of raw.slice(ACCESS_CONTROL_PREFIX.length).split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return fail('streamid item is not key=value');
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (value.length === 0) return fail(`streamid key ${key} has an empty value`);
    if (!KNOWN_KEYS.has(key)) return fail('streamid key is not supported (use r, m, s, u, h, t)');
    if (key === 't' && value !== 'stream') return fail('streamid t= must be stream');
    if (values.has(key)) return fail(`streamid key ${key} repeated`);
    values.set(key, value);
  }
  const streamId = values.get('r');
  if (streamId === undefined) return fail('streamid has no r= (stream id)');
  const publishKey = values.get('s') ?? values.get('u');
  if (publishKey === undefined) return fail('streamid has no s= or u= (publish key)');
  return { ok: true, streamId, publishKey, mode: values.get('m') ?? 'publish' };
}

/** What may be logged about a streamid: the resource name, never the key. */
export function redactStreamId(raw: string): string {
  const parsed = parseStreamId(raw);
  if (parsed.ok) return parsed.streamId === null ? '<plain key>' : `r=${parsed.streamId}`;
  return `<malformed, ${raw.length} chars>`;
}
