import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../web/src/features/live/sse';

describe('SSE parser', () => {
  it('parses events split anywhere across chunks', () => {
    const stream = 'retry: 2000\n\nid: 1\nevent: queued\ndata: {"a":1}\n\n: keep-alive\n\nid: 2\nevent: progress\ndata: {"step":3,"totalSteps":10}\n\n';
    for (let size = 1; size <= stream.length; size += 7) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      expect(events).toEqual([
        { event: 'queued', data: '{"a":1}', id: '1' },
        { event: 'progress', data: '{"step":3,"totalSteps":10}', id: '2' },
      ]);
      expect(parser.lastEventId).toBe('2');
      expect(parser.retry).toBe(2000);
    }
  });

  it('handles CRLF and CR line ends, multi-line data, and no-space values', () => {
    const parser = new SseParser();
    expect(parser.push('event:preview\r\ndata:line 1\r\ndata: line 2\r\r\n')).toEqual([{ event: 'preview', data: 'line 1\nline 2', id: undefined }]);
  });

  it('a CR at the end of a chunk waits for a possible LF', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('events without id (previews) keep the last id; empty events are not dispatched', () => {
    const parser = new SseParser();
    const events = parser.push('id: 7\nevent: progress\ndata: {}\n\nevent: preview\ndata: {"image":"data:image/png;base64,AA"}\n\nevent: nothing\n\n');
    expect(events.map((e) => [e.event, e.id])).toEqual([
      ['progress', '7'],
      ['preview', undefined],
    ]);
    expect(parser.lastEventId).toBe('7');
  });
});
