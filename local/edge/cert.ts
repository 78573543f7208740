import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/**
 * A self-signed certificate for localhost, made once with openssl into dir (`.mirror/`, gitignored).
 * Browsers need TLS for HTTP/2; HTTP/2 is what lets a grid of blocking playlist requests share one
 * connection instead of hitting the 6-connections-per-host limit of HTTP/1.1.
 */
export function selfSignedCertificate(dir: string): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'edge-key.pem');
  const certFile = join(dir, 'edge-cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const result = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '365',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'pipe' },
    );
    if (result.error !== undefined || result.status !== 0) {
      throw new Error(
        `openssl could not make a certificate (${result.error?.message ?? result.stderr.toString().trim()}). Fix: apt-get install -y openssl`,
      );
    }
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
