// Cancelling one chat call: the client went away, or the total timeout passed. Node's AbortController
// is an EventTarget: creating one and adding and removing its listeners (one per upstream request)
// showed as ~4 % of the gateway's CPU in profiles, and replacing it cut 12-19 % of the CPU per request
// in whole-run A/B measurements (its garbage included). This carries only what the pipeline uses of it:
// the retry sleep and the upstream call (upstream-client.ts) listen on it.

/** What waits on a cancellation need of it; a Node AbortSignal has this shape too. */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Controller and signal in one. Listeners run once, on the first abort(). */
export class CallAbort implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.listeners!.splice(index, 1);
  }
}
