import type { InstallState } from '@coser/nodes';
import { CoserError, isCoserError } from '@coser/runtime';
import type { RunEngine } from './run-engine';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * The server's model installs: at most one per model at a time (a second request joins the running one), each
 * reported to listeners at every step and at its end. What an install does is the engine's (`coser models add`).
 */
export class ModelInstalls {
  private readonly states = new Map<string, InstallState>();
  private readonly running = new Map<string, Promise<InstallState>>();
  private readonly listeners = new Set<(state: InstallState) => void>();

  constructor(
    private readonly engine: RunEngine,
    private readonly log: (message: string) => void,
  ) {}

  /** Every install since the server started, by model name (the newest state of each). */
  all(): InstallState[] {
    return [...this.states.values()];
  }

  get(name: string): InstallState | undefined {
    return this.states.get(name);
  }

  /** Called with each new state of any install; returns the unsubscribe function. */
  onChange(listener: (state: InstallState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts installing a catalogue model, or joins its running install; resolves with the state at once (not at
   * the end). Throws MODEL_MISSING for a name the catalogue does not hold, before anything starts.
   */
  async start(name: string): Promise<InstallState> {
    const current = this.states.get(name);
    if (current?.state === 'running') return current;
    const { catalogue, installModel } = this.engine;
    if (!catalogue || !installModel) throw new CoserError('NOT_READY', 'this server has no model manager');
    if (!MODEL_NAME.test(name)) throw new CoserError('MODEL_MISSING', 'no such model');
    const known = (await catalogue.call(this.engine)).find((m) => m.name === name);
    if (!known?.inCatalogue) {
      throw new CoserError(
        'MODEL_MISSING',
        known
          ? `${name} was imported from a file; import it again with \`npx coser models add FILE.onnx --name ${name}\``
          : `unknown model ${name}; GET /api/models/catalogue lists the catalogue`,
      );
    }
    // Checked again after the await: two requests may have passed the first check together.
    const raced = this.states.get(name);
    if (raced?.state === 'running') return raced;
    const state: InstallState = { name, state: 'running', startedAt: new Date().toISOString() };
    this.set(state);
    const job = installModel
      .call(this.engine, name, {
        log: (line) => this.set({ ...this.states.get(name)!, message: line }),
        onProgress: (progress) => this.set({ ...this.states.get(name)!, progress }),
      })
      .then(
        (installed): InstallState => ({
          name,
          state: 'done',
          startedAt: state.startedAt,
          finishedAt: new Date().toISOString(),
          ...(typeof installed['sizeBytes'] === 'number' ? { sizeBytes: installed['sizeBytes'] } : {}),
          ...(typeof installed['sha256'] === 'string' ? { sha256: installed['sha256'] } : {}),
        }),
        (error: unknown): InstallState => {
          if (!isCoserError(error)) this.log(`installing ${name} failed: ${String(error)}`);
          return {
            name,
            state: 'error',
            startedAt: state.startedAt,
            finishedAt: new Date().toISOString(),
            error: isCoserError(error)
              ? { code: error.code, message: error.message }
              : { code: 'INTERNAL', message: `installing ${name} failed (see the server's log)` },
          };
        },
      )
      .then((final) => {
        this.running.delete(name);
        this.set(final);
        return final;
      });
    this.running.set(name, job);
    return state;
  }

  /** Resolves once the model's current install (if any) has ended, with its final state. */
  async settled(name: string): Promise<InstallState | undefined> {
    return (await this.running.get(name)) ?? this.states.get(name);
  }

  private set(state: InstallState): void {
    this.states.set(state.name, state);
    for (const listener of this.listeners) listener(state);
  }
}
