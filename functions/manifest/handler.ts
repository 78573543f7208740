import type { APIGatewayProxyResultV2 } from 'aws-lambda';

/** Replaced by the manifest function's implementation; answers honestly until then. */
export async function handler(): Promise<APIGatewayProxyResultV2> {
  return {
    statusCode: 501,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      error: 'not_implemented',
      message: 'the manifest function is not implemented yet',
    }),
  };
}
