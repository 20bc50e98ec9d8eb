/**
 * Undo/redo over whole-graph snapshots. Graphs are small (kilobytes of JSON), so snapshots are simpler and safer
 * than inverse operations; equal consecutive snapshots are merged so that a click without a change adds nothing.
 */
export class History<T> {
  private readonly past: string[] = [];
  private readonly future: string[] = [];
  private present: string;

  constructor(
    initial: T,
    private readonly limit = 100,
  ) {
    this.present = JSON.stringify(initial);
  }

  /** Records a new state after an edit; clears the redo stack. Returns false when nothing changed. */
  push(state: T): boolean {
    const text = JSON.stringify(state);
    if (text === this.present) return false;
    this.past.push(this.present);
    if (this.past.length > this.limit) this.past.shift();
    this.present = text;
    this.future.length = 0;
    return true;
  }

  /** Replaces the history (a graph was opened): nothing to undo. */
  reset(state: T): void {
    this.past.length = 0;
    this.future.length = 0;
    this.present = JSON.stringify(state);
  }

  undo(): T | undefined {
    const previous = this.past.pop();
    if (previous === undefined) return undefined;
    this.future.push(this.present);
    this.present = previous;
    return JSON.parse(previous) as T;
  }

  redo(): T | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push(this.present);
    this.present = next;
    return JSON.parse(next) as T;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}
