// A request to stop (SIGTERM, SIGINT, `ha stop`), passed to operations instead of process signals:
// the CLI turns signals into request(); an operation reads `requested` between steps (a failover
// finishes the step in progress) or listens with onRequest (monitoring stops at once).
export class StopRequest {
  requested = false;
  reason: string | undefined;
  private readonly listeners: ((reason: string) => void)[] = [];

  request(reason: string): void {
    if (this.requested) return;
    this.requested = true;
    this.reason = reason;
    for (const l of this.listeners.splice(0)) l(reason);
  }

  /** Called once, at the first request (at once if one was already made). */
  onRequest(listener: (reason: string) => void): void {
    if (this.requested) listener(this.reason!);
    else this.listeners.push(listener);
  }

  /** Resolves at the first request. */
  get promise(): Promise<void> {
    return new Promise((resolve) => this.onRequest(() => resolve()));
  }
}

/** The CLI's link from process signals to a StopRequest; returns a function that unlinks. */
export function stopOnSignals(stop: StopRequest, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): () => void {
  const handlers = signals.map((sig) => [sig, () => stop.request(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}
