import { describe, expect, it } from 'vitest';
import { passphraseText } from '../../web/src/operator/credentials-dialog.js';

describe('operator credentials dialog', () => {
  it('tells an unencrypted stream from a passphrase this rotation did not issue (D38)', () => {
    expect(passphraseText(null)).toBe('(none: unencrypted)');
    // A rotation of the publish key alone omits the passphrase: the stream is still encrypted.
    expect(passphraseText(undefined)).toBe('(unchanged: not shown again)');
    expect(passphraseText('s3cret-passphrase')).toBe('s3cret-passphrase');
  });
});
