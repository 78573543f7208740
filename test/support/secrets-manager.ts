import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from './sdk-sha256.js';

// Secrets Manager has no local peer: this server checks each request as the service would (the signature
// recomputed by the SDK's own signer over the headers the request says it signed) and lets the test answer in the
// service's JSON protocol.

export const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};

const signer = new SignatureV4({
  service: 'secretsmanager',
  region: 'eu-west-1',
  credentials: CREDENTIALS,
  sha256: Sha256,
  // Signs the headers it is given, no more: x-amz-content-sha256 is S3's and optional elsewhere.
  applyChecksum: false,
});

/** What the SDK's signer makes of `headers` and `body` (the signed headers only) signed at x-amz-date. */
export async function sdkAuthorization(
  host: string,
  headers: Record<string, string>,
  body: string,
): Promise<string> {
  const d = headers['x-amz-date']!;
  const date = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 11)}:${d.slice(11, 13)}:${d.slice(13)}`,
  );
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: host, path: '/', query: {}, headers, body },
    { signingDate: date },
  );
  return signed.headers.authorization!;
}

/** A request whose signature checked out: its operation (`GetSecretValue`) and JSON body. */
export interface SignedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/**
 * A local server refusing a bad signature with InvalidSignatureException (as the service does) and answering the
 * others with `answer`'s status and JSON body.
 */
export async function startSecretsManager(
  answer: (call: SignedCall) => [number, unknown],
): Promise<{ readonly endpoint: string; readonly server: Server }> {
  const server = createServer((req, res) => {
    void verified(req).then((call) => {
      const [status, body] = call
        ? answer(call)
        : [400, { __type: 'InvalidSignatureException', message: 'signature mismatch' }];
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function verified(req: IncomingMessage): Promise<SignedCall | undefined> {
  let body = '';
  for await (const chunk of req) body += chunk;
  const authorization = req.headers.authorization ?? '';
  const names = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const signedHeaders = Object.fromEntries(names.map((n) => [n, String(req.headers[n])]));
  const expected = await sdkAuthorization(String(req.headers.host), signedHeaders, body);
  if (authorization !== expected || !names.includes('x-amz-target')) return undefined;
  const operation = String(req.headers['x-amz-target']).replace(/^secretsmanager\./, '');
  return { operation, input: JSON.parse(body) as Record<string, unknown> };
}
