// Server-sent events from an upstream byte stream: tolerant of CRLF, comments (": keep-alive"),
// blank keep-alive lines and events split across network chunks.

import { StringDecoder } from 'node:string_decoder';
import type { SseEvent } from '../providers/types.js';

/**
 * Parses a stream piece by piece and returns the events each piece completes, all at once: one network
 * read usually holds many events, and handing them on as one batch costs one async step per read instead
 * of one per event (streaming CPU per request at c=16: 488 vs 546 µs in an A/B).
 */
export class SseParser {
  /** Keeps a UTF-8 character split across two reads whole; 0.4 µs for a 2.7 KB read, where TextDecoder's stream mode took 5.4. */
  private readonly decoder = new StringDecoder('utf8');
  /** The start of a line whose end has not arrived yet. */
  private rest = '';
  private event: string | undefined;
  /** The data lines of the event being read, joined by newlines; undefined before its first data line. */
  private data: string | undefined;

  push(piece: Buffer | string): SseEvent[] {
    const text = this.rest + (typeof piece === 'string' ? piece : this.decoder.write(piece));
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
    const rest = (this.rest + this.decoder.end()).replace(/\r$/, '');
    this.rest = '';
    if (rest !== '') this.line(rest, events);
    this.line('', events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data !== undefined) events.push(this.event ? { event: this.event, data: this.data } : { data: this.data });
      this.event = undefined;
      this.data = undefined;
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon < 0 ? line : line.slice(0, colon);
    // One space after the colon belongs to the syntax, not to the value (character codes: no regex per line).
    const value = colon < 0 ? '' : line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'data') this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    else if (field === 'event') this.event = value;
  }
}
