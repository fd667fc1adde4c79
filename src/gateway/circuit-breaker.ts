// A circuit breaker per deployment: after `failureThreshold` failures in a row (connect errors,
// timeouts, 429, 5xx, rejected credentials) a deployment is taken out of rotation for a cool-down, so
// requests go straight to a healthy deployment or the fallback chain instead of waiting on one that is
// down. After the cool-down one request probes it (half-open): success closes the circuit, failure
// opens it again for twice as long (up to `maxCooldownMs`).

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

type State =
  | { kind: 'closed'; failures: number }
  | { kind: 'open'; until: number; cooldownMs: number }
  | { kind: 'half-open'; cooldownMs: number; probeStartedAt: number };

export interface BreakerEvents {
  /** Called when a deployment's circuit opens (for metrics and the log). */
  onOpen?(deploymentId: string, cooldownMs: number): void;
  onClose?(deploymentId: string): void;
}

export class CircuitBreakers {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly options: BreakerOptions,
    private readonly events: BreakerEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether a request may go to this deployment now. Passing the cool-down turns an open circuit
   * half-open and lets exactly this caller probe; others keep skipping it until the probe reports.
   */
  tryAcquire(id: string): boolean {
    const state = this.states.get(id);
    if (!state || state.kind === 'closed') return true;
    const now = this.now();
    if (state.kind === 'open') {
      if (now < state.until) return false;
      this.states.set(id, { kind: 'half-open', cooldownMs: state.cooldownMs, probeStartedAt: now });
      return true;
    }
    // A probe whose caller never reported (it was aborted) must not keep the deployment out forever.
    if (now - state.probeStartedAt > state.cooldownMs) {
      state.probeStartedAt = now;
      return true;
    }
    return false;
  }

  success(id: string): void {
    const state = this.states.get(id);
    if (!state) return;
    if (state.kind !== 'closed') this.events.onClose?.(id);
    this.states.delete(id);
  }

  failure(id: string): void {
    const state = this.states.get(id) ?? { kind: 'closed', failures: 0 };
    if (state.kind === 'closed') {
      const failures = state.failures + 1;
      if (failures < this.options.failureThreshold) {
        this.states.set(id, { kind: 'closed', failures });
        return;
      }
      this.open(id, this.options.cooldownMs);
      return;
    }
    // A failed probe (or a failure reported late by a request started before the circuit opened).
    this.open(id, state.kind === 'half-open' ? Math.min(state.cooldownMs * 2, this.options.maxCooldownMs) : state.cooldownMs);
  }

  /** Milliseconds until the first of these deployments may be tried again (0 when one can be now). */
  retryInMs(ids: string[]): number {
    const now = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const id of ids) {
      const state = this.states.get(id);
      if (!state || state.kind === 'closed') return 0;
      soonest = Math.min(soonest, state.kind === 'open' ? Math.max(0, state.until - now) : Math.max(0, state.probeStartedAt + state.cooldownMs - now));
    }
    return Number.isFinite(soonest) ? soonest : 0;
  }

  isOpen(id: string): boolean {
    const state = this.states.get(id);
    return !!state && state.kind !== 'closed';
  }

  private open(id: string, cooldownMs: number): void {
    this.states.set(id, { kind: 'open', until: this.now() + cooldownMs, cooldownMs });
    this.events.onOpen?.(id, cooldownMs);
  }
}
