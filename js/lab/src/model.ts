/**
 * A widget model without a kernel: the widgets' own front-end code (compare.ts, plot.ts) draws
 * in the extension's pages from state the server builds (nbtrack/widgets/remote.py). What the
 * page changes goes back to the server, which answers with the view's new state.
 */

import type { AnyModel } from "@anywidget/types";

type Listener = (...args: any[]) => void;
export type State = Record<string, unknown> & { _binary?: string[] };

function decodeBase64(text: string): DataView {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new DataView(bytes.buffer);
}

/** The state as a widget's model holds it: binary traits as DataViews. */
export function decodeState(state: State): Record<string, unknown> {
  const out: Record<string, unknown> = { ...state };
  for (const name of state._binary ?? []) {
    out[name] = decodeBase64(String(state[name]));
  }
  delete out._binary;
  return out;
}

export class LocalModel implements AnyModel {
  private values: Record<string, unknown>;
  private readonly listeners = new Map<string, Set<Listener>>();
  private changed = new Set<string>();
  readonly widget_manager = {
    get_model: () => Promise.reject(new Error("no widget manager outside a kernel")),
  };

  /** `onSave(changes)`: the traits the view changed and saved, to send to the server. */
  constructor(
    state: State,
    private readonly onSave: (changes: Record<string, unknown>) => void,
  ) {
    this.values = decodeState(state);
  }

  get(key: string): any {
    return this.values[key];
  }

  set(key: string, value: unknown): void {
    this.values[key] = value;
    this.changed.add(key);
    this.emit(`change:${key}`);
  }

  /** Take the server's new state: every trait that differs fires its change event. */
  update(state: State): void {
    const next = decodeState(state);
    const differ = Object.keys(next).filter((key) => JSON.stringify(next[key]) !== JSON.stringify(this.values[key]));
    this.values = { ...this.values, ...next };
    for (const key of differ) this.emit(`change:${key}`);
  }

  on(eventName: string, callback: Listener): void {
    const set = this.listeners.get(eventName) ?? new Set();
    set.add(callback);
    this.listeners.set(eventName, set);
  }

  off(eventName?: string | null, callback?: Listener | null): void {
    if (!eventName) {
      this.listeners.clear();
    } else if (!callback) {
      this.listeners.delete(eventName);
    } else {
      this.listeners.get(eventName)?.delete(callback);
    }
  }

  save_changes(): void {
    if (this.changed.size === 0) return;
    const changes = Object.fromEntries([...this.changed].map((key) => [key, this.values[key]]));
    this.changed = new Set();
    this.onSave(changes);
  }

  /** Custom messages (snapshots for saved notebooks, curve syncs) have no kernel to go to. */
  send(): void {}

  private emit(eventName: string): void {
    for (const listener of this.listeners.get(eventName) ?? []) listener();
  }
}
