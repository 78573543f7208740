// Server-Sent Events read from a fetch() body (decision D44): EventSource cannot send the credential header, so the
// page reads the stream itself. Pure: text in, messages out (the WHATWG "event stream interpretation" rules the
// server uses: `id`, `event`, `data` lines, a blank line ends a message, `:` lines are comments).

export interface SseMessage {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

/** Longest unterminated text kept: a server that never ends a message must not grow the page's memory. */
export const MAX_PENDING_CHARS = 64 * 1024;

/** Feeds chunks (any split, even mid-line) and calls `onMessage` per complete message. */
export function sseParser(onMessage: (message: SseMessage) => void) {
  let pending = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onMessage({ id, event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  };
  return {
    feed(chunk: string): void {
      pending += chunk;
      let end = pending.search(/\r\n|\n|\r/);
      while (end >= 0) {
        line(pending.slice(0, end));
        const width = pending.startsWith('\r\n', end) ? 2 : 1;
        pending = pending.slice(end + width);
        end = pending.search(/\r\n|\n|\r/);
      }
      if (pending.length > MAX_PENDING_CHARS) throw new Error('event stream message too long');
    },
    /** The id of the last message with one: sent back as Last-Event-ID on a reconnect. */
    get lastEventId(): string | undefined {
      return id;
    },
  };
}
