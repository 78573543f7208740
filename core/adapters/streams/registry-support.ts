import { createHash, randomBytes } from 'node:crypto';
import type { CreateStreamInput } from './registry.js';

export function parseJson<T>(
  raw: string | null,
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
) {
  if (raw === null) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function hashInput(input: CreateStreamInput): string {
  const { clientToken: _t, ...rest } = input;
  return createHash('sha256')
    .update(JSON.stringify(rest, Object.keys(rest).sort()))
    .digest('base64url');
}

/** A slug from the name plus a short random suffix, always a valid, non-reserved stream id. */
export function deriveId(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const suffix = randomBytes(4).toString('hex').slice(0, 6);
  return slug === '' ? `s-${suffix}` : `${slug}-${suffix}`;
}
