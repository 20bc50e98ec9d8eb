import type { ErrorCode } from '@coser/runtime';
import { useCallback, useEffect, useRef, useState } from 'react';
import { type RunClient, RunRefused } from '../run/run-client';
import type { ServerRunClient } from '../run/server-client';
import type { CatalogueModel, InstallState } from '../run/server-models';

/** The server's model catalogue and installs, for the model manager dialog and the install prompts on nodes. */
export interface ModelManager {
  /** The run target has a model manager (a server). */
  available: boolean;
  /** The catalogue with what is installed; undefined until loaded (or where there is none). */
  catalogue: CatalogueModel[] | undefined;
  /** Why the catalogue could not be loaded (e.g. not authorised). */
  problem?: string;
  /** The newest state of each install this server reported. */
  installs: Readonly<Record<string, InstallState>>;
  /** Starts installing a catalogue model on the server; progress arrives in `installs`. */
  install(name: string): Promise<void>;
  /** Loads the catalogue again. */
  reload(): void;
}

/** While an install runs, the catalogue is also polled (a lost socket must not leave a spinner forever). */
const POLL_MS = 1000;

/**
 * Follows the server's model manager: loads the catalogue, hears every install's steps over the socket
 * (`model:install`) and polls while one runs; when an install ends, `onInstalled` refreshes the editor's model
 * lists (pickers, node diagnostics) and the catalogue is loaded again.
 */
export function useModelManager(
  client: RunClient,
  onInstalled: (name: string) => void,
  report: (message: string, kind?: 'error' | 'info') => void,
): ModelManager {
  const server = client.target === 'server' ? (client as ServerRunClient) : undefined;
  const [catalogue, setCatalogue] = useState<CatalogueModel[] | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [installs, setInstalls] = useState<Record<string, InstallState>>({});
  const [version, setVersion] = useState(0);
  const callbacks = useRef({ onInstalled, report });
  callbacks.current = { onInstalled, report };
  /** Installs already seen ending, so one end is reported once whether the socket or the poll saw it first. */
  const ended = useRef(new Set<string>());
  /** The server whose catalogue was loaded at least once (installs it reports then ended before we listened). */
  const loadedFrom = useRef<ServerRunClient | undefined>(undefined);

  const settle = useCallback((state: InstallState) => {
    setInstalls((all) => ({ ...all, [state.name]: state }));
    const key = `${state.name}@${state.startedAt}`;
    if (state.state === 'running' || ended.current.has(key)) return;
    ended.current.add(key);
    if (state.state === 'done') {
      callbacks.current.report(`Installed ${state.name} on the server`);
      callbacks.current.onInstalled(state.name);
      setVersion((v) => v + 1);
    } else {
      callbacks.current.report(
        `Installing ${state.name} failed: ${state.error?.code ?? 'INTERNAL'}: ${state.error?.message ?? ''}`,
        'error',
      );
    }
  }, []);

  // Catalogue loads (on a new target, after an install, while one runs).
  useEffect(() => {
    if (!server) {
      setCatalogue(undefined);
      setProblem(undefined);
      return;
    }
    let stale = false;
    void version;
    server.modelCatalogue().then(
      (models) => {
        if (stale) return;
        setCatalogue(models);
        setProblem(undefined);
        const first = loadedFrom.current !== server;
        loadedFrom.current = server;
        for (const model of models) {
          if (!model.install) continue;
          // Installs that had ended before this editor looked are taken as they are, not announced.
          if (first && model.install.state !== 'running') ended.current.add(`${model.name}@${model.install.startedAt}`);
          settle(model.install);
        }
      },
      (cause: unknown) => {
        if (stale) return;
        setProblem(cause instanceof RunRefused ? cause.message : String(cause));
      },
    );
    return () => {
      stale = true;
    };
  }, [server, version, settle]);

  useEffect(() => (server ? server.onModelInstall(settle) : undefined), [server, settle]);

  const running = Object.values(installs).some((s) => s.state === 'running');
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setVersion((v) => v + 1), POLL_MS);
    return () => clearInterval(timer);
  }, [running]);

  const install = useCallback(
    async (name: string) => {
      if (!server) return;
      try {
        settle(await server.installModel(name));
      } catch (cause) {
        const refused = cause instanceof RunRefused ? cause : new RunRefused('INTERNAL', String(cause));
        settle({
          name,
          state: 'error',
          startedAt: new Date().toISOString(),
          // The server's codes are ErrorCodes; one the client made up (HTTP_502 from a proxy) is shown as it is.
          error: { code: refused.code as ErrorCode, message: refused.message },
        });
      }
    },
    [server, settle],
  );

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return {
    available: server !== undefined,
    catalogue,
    ...(problem ? { problem } : {}),
    installs,
    install,
    reload,
  };
}
