import { errorMessage } from '@agent-conductor/scheduling-domain';

/**
 * Owns everything `npm run dev` starts and stops it all, whichever way the run ends: a signal (Ctrl-C reaches the
 * whole foreground process group, `kill` only npm, which forwards it), a failed start, an app that dies, or the
 * parent gone without a word (SIGKILL of npm: nothing is delivered to us, so we look).
 */
export interface SupervisorOptions {
  log: (line: string) => void;
  /** How long a running start step may take to settle once stopping begins, so that what it started is owned. */
  settleMs: number;
  /** A part whose stop takes longer is given up on, so that one stuck part cannot keep the others running. */
  partStopMs: number;
  /** How often the parent is checked. */
  parentPollMs?: number;
  exit?: (code: number) => void;
}

interface Owned {
  name: string;
  stop: () => Promise<void>;
}

const SIGNAL_EXIT_CODES: Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export class Supervisor {
  private readonly owned: Owned[] = [];
  private readonly abort = new AbortController();
  private current: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private parentTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SupervisorOptions) {}

  /** Aborts when stopping begins: start steps that wait check it so that a stop never waits out a timeout. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** `stop` runs when the stack stops, after everything owned later (reverse order: apps before their database). */
  own(name: string, stop: () => Promise<void>): void {
    this.owned.push({ name, stop });
  }

  /** Runs one start step; a stop that begins meanwhile waits for it (bounded) so whatever it started gets owned. */
  async step<T>(work: () => Promise<T>): Promise<T> {
    this.signal.throwIfAborted();
    const running = work();
    this.current = running.catch(() => undefined);
    return running;
  }

  handleSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => void this.stop(signal, SIGNAL_EXIT_CODES[signal]));
    }
  }

  /**
   * SIGKILL of our parent delivers nothing to us; we are only re-parented. Started by init (ppid 1) there is no
   * parent to lose, and nothing is watched.
   */
  watchParent(): void {
    const parent = process.ppid;
    if (parent <= 1) return;
    this.parentTimer = setInterval(() => {
      if (process.ppid !== parent) void this.stop(`parent process ${parent} is gone`, 1);
    }, this.options.parentPollMs ?? 500);
  }

  /** Idempotent: every later call returns the first one's promise. Exits the process when done. */
  stop(reason: string, exitCode: number): Promise<void> {
    this.stopping ??= this.stopAll(reason, exitCode);
    return this.stopping;
  }

  private async stopAll(reason: string, exitCode: number): Promise<void> {
    this.options.log(`${reason}: stopping`);
    if (this.parentTimer) clearInterval(this.parentTimer);
    this.abort.abort(new Error(`stopping: ${reason}`));
    const settled = await Promise.race([this.current.then(() => true), delay(this.options.settleMs).then(() => false)]);
    if (!settled) this.options.log(`a start step did not settle within ${this.options.settleMs} ms; stopping what is owned`);
    for (const part of [...this.owned].reverse()) {
      try {
        const stopped = await Promise.race([part.stop().then(() => true), delay(this.options.partStopMs).then(() => false)]);
        this.options.log(stopped ? `stopped ${part.name}` : `${part.name} did not stop within ${this.options.partStopMs} ms`);
      } catch (error) {
        this.options.log(`stopping ${part.name} failed: ${errorMessage(error)}`);
      }
    }
    (this.options.exit ?? ((code: number) => process.exit(code)))(exitCode);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
