/**
 * The viewer's own address as the API sees it (decision D27). Behind CloudFront, API Gateway's source address is
 * an edge server's, shared by every viewer that edge serves, so a per-address limit on it throttles thousands of
 * viewers together. CloudFront sets `CloudFront-Viewer-Address` (`ip:port` of the viewer's connection, IPv6
 * unbracketed) itself, replacing any value a client sent, and the API's origin request policy forwards it; the local
 * edge (local/edge/edge.ts) sets and replaces it the same way from its socket. X-Forwarded-For is never read: its
 * first entries are whatever the client wrote.
 */

export const VIEWER_ADDRESS_HEADER = 'cloudfront-viewer-address';

/** The header's value for a connection, in CloudFront's form. */
export function formatViewerAddress(ip: string, port: number): string {
  return `${ip}:${port}`;
}

/** Bits of an IPv6 address one subscriber holds: a home or mobile network gets a whole /64. */
const IPV6_SUBSCRIBER_GROUPS = 4;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** An IPv4 address as a dual-stack socket reports it. */
const IPV4_MAPPED = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i;

/** The IP of a `CloudFront-Viewer-Address` value (`ip:port`; bracketed IPv6 accepted too), or undefined. */
export function viewerIp(value: string | undefined): string | undefined {
  const trimmed = value?.trim() ?? '';
  // The IP is everything before the last colon.
  const match = /^\[([^\]]+)\]:\d{1,5}$/.exec(trimmed) ?? /^(.+):\d{1,5}$/.exec(trimmed);
  const ip = match?.[1];
  const valid = ip !== undefined && (IPV4.test(ip) || IPV4_MAPPED.test(ip) || expandIpv6(ip) !== undefined);
  return valid ? ip : undefined;
}

/**
 * Who a per-address rate limit counts: the IPv4 address, or the IPv6 /64 (a client holding a /64 could otherwise
 * take a fresh bucket per address). Anything else is counted as given.
 */
export function rateLimitSubject(ip: string): string {
  const ipv4Mapped = IPV4_MAPPED.exec(ip);
  if (ipv4Mapped) return ipv4Mapped[1]!;
  if (IPV4.test(ip)) return ip;
  const groups = expandIpv6(ip);
  return groups ? `${groups.slice(0, IPV6_SUBSCRIBER_GROUPS).join(':')}::/64` : ip;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, leading zeros dropped), or undefined. */
function expandIpv6(ip: string): string[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string | undefined) => (s ? s.split(':') : []);
  const head = split(halves[0]);
  const tail = split(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}
