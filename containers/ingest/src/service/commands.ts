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

/** What commands act on (the session table and its pipelines). */
export interface CommandTarget {
  /** Closes the stream's publishing connection; false when nobody publishes it on this task. */
  disconnect(streamId: string, reason: string): boolean;
  /**
   * Pauses or resumes the stream's pipeline (decision D32): resolves to whether it changed; null when the stream
   * has no session on this task. Optional: a target without pipelines ignores these commands.
   */
  setPaused?(streamId: string, paused: boolean): Promise<boolean> | null;
  /** Restarts the stream's transcode with the encoder connected; null when the stream has no session here. */
  restart?(streamId: string): Promise<boolean> | null;
}

/** Carries out one command; a command for a stream not published here is for another task and is ignored. */
export function dispatchIngestCommand(command: IngestCommand, target: CommandTarget, log: Logger): void {
  const { streamId } = command;
  const settled = (what: string) => (changed: boolean) => log.info(`${what} command`, { streamId, changed });
  const failed = (what: string) => (error: unknown) =>
    log.warn(`${what} command failed`, { streamId, error: String(error) });
  switch (command.type) {
    case 'disconnect':
      if (target.disconnect(streamId, `disconnected: ${command.reason}`)) {
        log.info('disconnect command', { streamId, reason: command.reason });
      }
      break;
    case 'pause':
    case 'resume':
      target
        .setPaused?.(streamId, command.type === 'pause')
        ?.then(settled(command.type), failed(command.type));
      break;
    case 'restart':
      target.restart?.(streamId)?.then(settled('restart'), failed('restart'));
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
