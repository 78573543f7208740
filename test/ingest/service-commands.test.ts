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

describe('ingest command channel: pause, resume, restart (decision D32)', () => {
  const quiet = () => ({ info: vi.fn(), warn: vi.fn(), error: vi.fn() });
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('reads pause, resume and restart, and refuses them without a stream id', () => {
    for (const type of ['pause', 'resume', 'restart']) {
      expect(parseIngestCommand(channels.ingestCommands, JSON.stringify({ type, streamId: 'cam' }))).toEqual({
        type,
        streamId: 'cam',
      });
      expect(parseIngestCommand(channels.ingestCommands, JSON.stringify({ type }))).toBeNull();
    }
  });

  it('pauses and resumes the stream’s pipeline, restarts it, and logs what changed', async () => {
    const target = {
      disconnect: vi.fn(() => false),
      setPaused: vi.fn(async (_id: string, paused: boolean) => paused),
      restart: vi.fn(async () => true),
    };
    const log = quiet();
    dispatchIngestCommand({ type: 'pause', streamId: 'cam' }, target, log);
    dispatchIngestCommand({ type: 'resume', streamId: 'cam' }, target, log);
    dispatchIngestCommand({ type: 'restart', streamId: 'cam' }, target, log);
    await flush();
    expect(target.setPaused.mock.calls).toEqual([
      ['cam', true],
      ['cam', false],
    ]);
    expect(target.restart).toHaveBeenCalledWith('cam');
    expect(log.info.mock.calls).toEqual([
      ['pause command', { streamId: 'cam', changed: true }],
      ['resume command', { streamId: 'cam', changed: false }],
      ['restart command', { streamId: 'cam', changed: true }],
    ]);
    expect(target.disconnect).not.toHaveBeenCalled();
  });

  it('ignores them for a stream without a session here, and warns when the pipeline fails to switch', async () => {
    const log = quiet();
    dispatchIngestCommand(
      { type: 'pause', streamId: 'cam' },
      { disconnect: () => false, setPaused: () => null },
      log,
    );
    dispatchIngestCommand(
      { type: 'restart', streamId: 'cam' },
      { disconnect: () => false, restart: () => Promise.reject(new Error('ffmpeg gone')) },
      log,
    );
    await flush();
    expect(log.info).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledWith('restart command failed', {
      streamId: 'cam',
      error: 'Error: ffmpeg gone',
    });
  });
});
