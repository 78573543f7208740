import { describe, expect, it, vi } from 'vitest';
import {
  dispatchIngestCommand,
  ingestCommandListener,
  parseIngestCommand,
} from '../../containers/ingest/src/service/commands.js';
import { channels } from '../../core/streams/keys.js';

const disconnect = JSON.stringify({ type: 'disconnect', streamId: 'cam', reason: 'operator' });

describe('ingest command channel: parsing', () => {
  it('reads a disconnect command from the command channel', () => {
    expect(parseIngestCommand(channels.ingestCommands, disconnect)).toEqual({
      type: 'disconnect',
      streamId: 'cam',
      reason: 'operator',
    });
  });

  it('ignores other channels, broken JSON and messages that are not commands', () => {
    expect(parseIngestCommand(channels.streamChanges, disconnect)).toBeNull();
    expect(parseIngestCommand(channels.ingestCommands, '{"type":')).toBeNull();
    expect(parseIngestCommand(channels.ingestCommands, '{"type":"reboot","streamId":"cam"}')).toBeNull();
    expect(parseIngestCommand(channels.ingestCommands, '{"type":"disconnect","streamId":"cam"}')).toBeNull();
  });
});

describe('ingest command channel: dispatch', () => {
  it('disconnects the publisher with the reason, and logs it', () => {
    const target = { disconnect: vi.fn(() => true) };
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    dispatchIngestCommand({ type: 'disconnect', streamId: 'cam', reason: 'operator' }, target, log);
    expect(target.disconnect).toHaveBeenCalledWith('cam', 'disconnected: operator');
    expect(log.info).toHaveBeenCalledWith('disconnect command', { streamId: 'cam', reason: 'operator' });
  });

  it('says nothing about a stream another task publishes (every task hears every command)', () => {
    const target = { disconnect: vi.fn(() => false) };
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    dispatchIngestCommand({ type: 'disconnect', streamId: 'cam', reason: 'operator' }, target, log);
    expect(log.info).not.toHaveBeenCalled();
  });

  it('the subscriber listener acts only on command-channel messages', () => {
    const target = { disconnect: vi.fn(() => true) };
    const listener = ingestCommandListener(target, { info() {}, warn() {}, error() {} });
    listener(channels.streamChanges, disconnect);
    listener(channels.ingestCommands, 'not json');
    expect(target.disconnect).not.toHaveBeenCalled();
    listener(channels.ingestCommands, disconnect);
    expect(target.disconnect).toHaveBeenCalledTimes(1);
  });
});
