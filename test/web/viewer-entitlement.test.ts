import { describe, expect, it } from 'vitest';
import {
  entitlementFromFragment,
  entitlementFromMessage,
  entitlementHeaders,
} from '../../web/src/viewer/entitlement.js';

// Decision D36: the viewer page takes its entitlement from the URL fragment or from the page embedding it.

const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ2In0.c2lnbmF0dXJl';

describe('viewer entitlement', () => {
  it('reads a JWT from the fragment, alone or beside other parameters, and nothing else', () => {
    expect(entitlementFromFragment(`#entitlement=${JWT}`)).toBe(JWT);
    expect(entitlementFromFragment(`#x=1&entitlement=${JWT}`)).toBe(JWT);
    expect(entitlementFromFragment('')).toBeUndefined();
    expect(entitlementFromFragment('#entitlement=')).toBeUndefined();
    // Not a compact JWS: never sent as a header.
    expect(entitlementFromFragment('#entitlement=a.b')).toBeUndefined();
    expect(entitlementFromFragment('#entitlement=a.b.c%0Aevil: 1')).toBeUndefined();
  });

  it('takes a token from an embedding page’s message of the agreed type only', () => {
    expect(entitlementFromMessage({ type: 'mirror-entitlement', token: JWT })).toBe(JWT);
    expect(entitlementFromMessage({ type: 'other', token: JWT })).toBeUndefined();
    expect(entitlementFromMessage({ type: 'mirror-entitlement', token: 42 })).toBeUndefined();
    expect(entitlementFromMessage(null)).toBeUndefined();
    expect(entitlementFromMessage('mirror-entitlement')).toBeUndefined();
  });

  it('sends it as X-Mirror-Entitlement, and no header without one', () => {
    expect(entitlementHeaders(JWT)).toEqual({ 'x-mirror-entitlement': JWT });
    expect(entitlementHeaders(undefined)).toEqual({});
  });
});
