import type { Diagnostic } from '@coser/runtime';
import { createContext, useContext } from 'react';
import type { CatalogIndex } from '../graph/compat';
import type { RunState } from '../run/run-state';
import type { Store } from '../state/store';
import type { StaticInfoMap } from '../worker/protocol';
import type { WidgetServices } from './param-widgets';

/** Validation results of the current graph, from the worker. */
export interface AnalysisState {
  /** Diagnostics by node id ('' for graph-level ones). */
  byNode: Record<string, Diagnostic[]>;
  staticInfo: StaticInfoMap;
}

/** What canvas nodes read besides their own data. Stable for the page's life; changing parts are stores. */
export interface EditorContextValue {
  catalog: CatalogIndex;
  services: WidgetServices;
  updateParams(nodeId: string, patch: Record<string, unknown>): void;
  analysis: Store<AnalysisState>;
  run: Store<RunState>;
}

export const EditorContext = createContext<EditorContextValue | undefined>(undefined);

export function useEditorContext(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error('useEditorContext outside <EditorContext.Provider>');
  return value;
}

export function groupDiagnostics(diagnostics: readonly Diagnostic[]): Record<string, Diagnostic[]> {
  const byNode: Record<string, Diagnostic[]> = {};
  for (const d of diagnostics) (byNode[d.node ?? ''] ??= []).push(d);
  return byNode;
}
