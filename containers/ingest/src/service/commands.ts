import type { Logger } from '../../../../core/logger.js';
import { channels } from '../../../../core/streams/keys.js';
import { IngestCommand } from '../../../../core/streams/schema.js';

/** Pure: a message on the subscriber connection to a command, or null (another channel, or not a command). */
export function parseIngestCommand(channel: string, message: string): IngestCommand | null {
  if (channel !== channels.ingestCommands) return null;
  try {
    return IngestCommand.parse(JSON.parse(message));
  } catch {
    return null;
  }
}

/** What commands act on (the session table). */
export interface CommandTarget {
  /** Closes the stream's publishing connection; false when nobody publishes it on this task. */
  disconnect(streamId: string, reason: string): boolean;
}

/** Carries out one command; a command for a stream not published here is for another task and is ignored. */
export function dispatchIngestCommand(command: IngestCommand, target: CommandTarget, log: Logger): void {
  switch (command.type) {
    case 'disconnect':
      if (target.disconnect(command.streamId, `disconnected: ${command.reason}`)) {
        log.info('disconnect command', { streamId: command.streamId, reason: command.reason });
      }
      break;
  }
}

/** The subscriber's message listener for the control API's command channel (every task hears every command). */
export function ingestCommandListener(
  target: CommandTarget,
  log: Logger,
): (channel: string, message: string) => void {
  return (channel, message) => {
    const command = parseIngestCommand(channel, message);
    if (command) dispatchIngestCommand(command, target, log);
  };
}
