// s3rver in a process of its own, started by local/s3.ts: `node --import tsx local/s3-server.ts <port> <dir> <bucket>`.
// Its own process so the platform can take S3 away (SIGKILL: connections refused, as during an outage) and bring it
// back on the same port and directory (the objects survive, as S3's do), and so its disk writes do not share the
// platform's event loop. It prints one JSON line per event on stdout: `{"listening":port}` once, then
// `{"put":key,"etag":etag}` per stored object (the fault suite counts PUTs per key from these).
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

interface S3rverEvent {
  readonly Records: readonly {
    readonly eventName: string;
    readonly s3: { readonly object: { readonly key: string; readonly eTag?: string } };
  }[];
}

const [port, directory, bucket] = process.argv.slice(2);
if (port === undefined || directory === undefined || bucket === undefined) {
  console.error('usage: s3-server.ts <port> <directory> <bucket>');
  process.exit(2);
}
const server = new S3rver({
  port: Number(port),
  address: '127.0.0.1',
  directory,
  silent: true,
  // Created when missing; an existing bucket (a restart) keeps its objects.
  configureBuckets: [{ name: bucket }],
});
server.on('event', (event: S3rverEvent) => {
  for (const record of event.Records) {
    if (record.eventName.startsWith('ObjectCreated:')) {
      process.stdout.write(`${JSON.stringify({ put: record.s3.object.key, etag: record.s3.object.eTag })}\n`);
    }
  }
});
await server.run();
process.stdout.write(`${JSON.stringify({ listening: Number(port) })}\n`);
