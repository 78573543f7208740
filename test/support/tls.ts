import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A self-signed certificate for `localhost` (one day, with the subjectAltName TLS clients check) made by openssl
 * in a fresh temporary directory: what a test TLS server presents.
 */
export function localhostCertificate(prefix: string): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key };
}
