/**
 * Attribute-list values (RFC 8216bis 4.2) rendered by type, so no tag module formats numbers or quotes by hand.
 */
export type AttributeValue =
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'float'; readonly value: number; readonly decimals?: number }
  | { readonly type: 'quoted'; readonly value: string }
  | { readonly type: 'enum'; readonly value: string }
  | { readonly type: 'resolution'; readonly width: number; readonly height: number };

export const integer = (value: number): AttributeValue => ({ type: 'integer', value });
/** `decimals`: more than millisecond precision, trailing zeros past the third dropped (see formatFloat). */
export const float = (value: number, decimals?: number): AttributeValue => ({
  type: 'float',
  value,
  decimals,
});
export const quoted = (value: string): AttributeValue => ({ type: 'quoted', value });
export const enumerated = (value: string): AttributeValue => ({ type: 'enum', value });
export const resolution = (width: number, height: number): AttributeValue => ({
  type: 'resolution',
  width,
  height,
});

/** Decimal places for floating-point seconds: millisecond precision is below any frame duration. */
const FLOAT_DECIMALS = 3;

export function formatFloat(value: number, decimals = FLOAT_DECIMALS): string {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`not a non-negative decimal-floating-point: ${value}`);
  const fixed = value.toFixed(Math.max(decimals, FLOAT_DECIMALS));
  // Extra places only where they carry something: 0.10000 stays 0.100, 0.13333 stays as it is.
  const extra = Math.max(decimals - FLOAT_DECIMALS, 0);
  return extra === 0 ? fixed : fixed.replace(new RegExp(`0{1,${extra}}$`), '');
}

function formatValue(value: AttributeValue): string {
  switch (value.type) {
    case 'integer':
      if (!Number.isSafeInteger(value.value) || value.value < 0) {
        throw new RangeError(`not a decimal-integer: ${value.value}`);
      }
      return String(value.value);
    case 'float':
      return formatFloat(value.value, value.decimals);
    case 'quoted':
      if (/["\r\n]/.test(value.value))
        throw new RangeError(`quoted-string may not contain quotes or line breaks`);
      return `"${value.value}"`;
    case 'enum':
      if (!/^[A-Za-z0-9-]+$/.test(value.value))
        throw new RangeError(`not an enumerated-string: ${value.value}`);
      return value.value;
    case 'resolution':
      return `${value.width}x${value.height}`;
  }
}

/** `#NAME:A=1,B="x"`, skipping undefined attributes. */
export function attributeTag(name: string, attributes: Record<string, AttributeValue | undefined>): string {
  const list = Object.entries(attributes)
    .filter((entry): entry is [string, AttributeValue] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(',');
  return `#${name}:${list}`;
}

/** Parses an attribute list (used where we read our own tags back, e.g. in tests and tools). */
export function parseAttributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  const pattern = /([A-Z0-9-]+)=("[^"]*"|[^,]*)(?:,|$)/g;
  for (const match of list.matchAll(pattern)) {
    const raw = match[2]!;
    out[match[1]!] = raw.startsWith('"') ? raw.slice(1, -1) : raw;
  }
  return out;
}
