// Server-sent events from an upstream byte stream: tolerant of CRLF, comments (": keep-alive"),
// blank keep-alive lines and events split across network chunks.

import type { SseEvent } from '../providers/types.js';

/**
 * Parses a stream piece by piece and returns the events each piece completes, all at once: one network
 * read usually holds many events, and handing them on as one batch costs one async step per read instead
 * of one per event (streaming CPU per request at c=16: 488 vs 546 µs in an A/B).
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  /** The start of a line whose end has not arrived yet. */
  private rest = '';
  private event: string | undefined;
  private data: string[] = [];

  push(piece: Buffer | string): SseEvent[] {
    const text = this.rest + (typeof piece === 'string' ? piece : this.decoder.decode(piece, { stream: true }));
    const events: SseEvent[] = [];
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf('\n', start)) >= 0) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 /* \r */ ? newline - 1 : newline;
      this.line(text.slice(start, end), events);
      start = newline + 1;
    }
    this.rest = text.slice(start);
    return events;
  }

  /** The stream ended: an event whose closing blank line never came still counts. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = (this.rest + this.decoder.decode()).replace(/\r$/, '');
    this.rest = '';
    if (rest.startsWith('data:')) this.data.push(rest.slice(5).replace(/^ /, ''));
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length) events.push(this.event ? { event: this.event, data: this.data.join('\n') } : { data: this.data.join('\n') });
      this.event = undefined;
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
