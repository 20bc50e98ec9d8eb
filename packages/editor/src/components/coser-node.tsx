import type { Diagnostic, PortSpec, StaticInfo } from '@coser/runtime';
import { PORT_KINDS } from '@coser/runtime';
import { Handle, type NodeProps, Position } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { CoserFlowNode } from '../graph/flow-adapter';
import { defaultParams, type WidgetSpec, widgetApplies, widgetsForParams } from '../graph/param-schema';
import type { NodeRunState } from '../run/run-state';
import { useStore } from '../state/store';
import { useEditorContext } from './editor-context';
import { ParamField } from './param-widgets';

const NO_DIAGNOSTICS: Diagnostic[] = [];
const NO_INFO: Record<string, StaticInfo> = {};

/** Category colours for node headers; anything else gets the neutral one. */
const CATEGORY_COLORS: Record<string, string> = {
  io: '#3a6ea5',
  image: '#4b7f52',
  upscale: '#7a4fa3',
  coser: '#a34f6b',
  metrics: '#2f7f86',
  model: '#6b55a3',
};

/** One graph node on the canvas: typed handles, param widgets, static sizes, diagnostics and run progress. */
export const CoserNode = memo(function CoserNode({ id, data, selected }: NodeProps<CoserFlowNode>) {
  const { catalog, services, updateParams, analysis, run } = useEditorContext();
  const entry = catalog.get(data.nodeType);
  const analysed = useStore(analysis, (s) => s.byNode[id] ?? NO_DIAGNOSTICS);
  const staticInfo = useStore(analysis, (s) => s.staticInfo[id] ?? NO_INFO);
  const runState = useStore(run, (s) => s.nodes[id]);
  // Why the target refused the last run (e.g. the server's MODEL_MISSING), on the node it names.
  const refusedAll = useStore(run, (s) => s.diagnostics);
  const diagnostics = useMemo(() => {
    const refused = refusedAll?.filter((d) => d.node === id) ?? [];
    if (refused.length === 0) return analysed;
    const seen = new Set(analysed.map((d) => `${d.code}|${d.param ?? ''}|${d.message}`));
    return [...analysed, ...refused.filter((d) => !seen.has(`${d.code}|${d.param ?? ''}|${d.message}`))];
  }, [analysed, refusedAll, id]);
  const allWidgets = useMemo(() => (entry ? widgetsForParams(entry.params) : []), [entry]);
  const defaults = useMemo(() => (entry ? defaultParams(entry.params) : {}), [entry]);
  // Fields the node's current params do not use (appliesWhen: Resize's width in mode "scale") are not shown.
  const widgets = allWidgets.filter((w) => widgetApplies(w, data.params, defaults));

  if (!entry) {
    return (
      <div className={`coser-node unknown${selected ? ' selected' : ''}`}>
        <div className="node-header">{data.title ?? data.nodeType}</div>
        <div className="node-diagnostics">
          <div className="diag error">Unknown node type {data.nodeType} (from a newer version?)</div>
        </div>
      </div>
    );
  }
  const hasError = diagnostics.some((d) => d.severity === 'error') || runState?.status === 'error';
  const paramError = (spec: WidgetSpec) => diagnostics.find((d) => d.param === spec.key)?.message;
  return (
    <div
      className={`coser-node${selected ? ' selected' : ''}${hasError ? ' has-error' : ''} status-${runState?.status ?? 'idle'}`}
      data-node-id={id}
    >
      <div className="node-header" style={{ background: CATEGORY_COLORS[entry.category] ?? '#4a5160' }}>
        <span className="node-title" title={entry.description}>
          {data.title ?? entry.title}
        </span>
        <RunBadge state={runState} />
      </div>
      {runState?.progress ? <ProgressBar progress={runState.progress} /> : null}
      <div className="node-ports">
        <div className="port-column">
          {Object.entries(entry.inputs).map(([key, spec]) => (
            <PortRow key={key} portKey={key} spec={spec} side="input" />
          ))}
        </div>
        <div className="port-column outputs">
          {Object.entries(entry.outputs).map(([key, spec]) => (
            <PortRow key={key} portKey={key} spec={spec} side="output" info={staticInfo[key]} />
          ))}
        </div>
      </div>
      {widgets.length > 0 ? (
        <div className="node-params">
          {widgets.map((spec) => (
            <ParamField
              key={spec.key}
              spec={spec}
              value={data.params[spec.key]}
              onChange={(value) => updateParams(id, { [spec.key]: value })}
              services={services}
              {...(paramError(spec) ? { error: paramError(spec) } : {})}
            />
          ))}
        </div>
      ) : null}
      {runState?.preview ? (
        <img
          className="node-preview"
          src={runState.preview.url}
          alt={`preview of ${id}`}
          width={runState.preview.width}
          height={runState.preview.height}
        />
      ) : null}
      <NodeMessages
        diagnostics={diagnostics.filter((d) => !d.param || !widgets.some((w) => w.key === d.param))}
        runState={runState}
      />
    </div>
  );
});

function PortRow({
  portKey,
  spec,
  side,
  info,
}: {
  portKey: string;
  spec: PortSpec;
  side: 'input' | 'output';
  info?: StaticInfo;
}) {
  const kind = PORT_KINDS[spec.kind];
  const label = spec.label ?? portKey;
  return (
    <div
      className={`port-row ${side}`}
      title={`${kind.label}${spec.optional ? ' (optional)' : ''}${spec.description ? ` — ${spec.description}` : ''}`}
    >
      <Handle
        type={side === 'input' ? 'target' : 'source'}
        position={side === 'input' ? Position.Left : Position.Right}
        id={portKey}
        className={`port-handle kind-${spec.kind}`}
        style={{ background: kind.color, borderColor: spec.optional ? 'transparent' : '#0b0d10' }}
      />
      <span className="port-label">
        {label}
        {spec.optional ? '?' : ''}
      </span>
      {info ? <span className="port-info">{describeInfo(info)}</span> : null}
    </div>
  );
}

/** `256×256 · 3 ch`, a shape, or the node's own note. */
export function describeInfo(info: StaticInfo): string {
  const parts: string[] = [];
  if (info.width !== undefined && info.height !== undefined) parts.push(`${info.width}×${info.height}`);
  if (info.channels !== undefined) parts.push(`${info.channels} ch`);
  if (info.shape) parts.push(`[${info.shape.join('×')}]`);
  if (info.note) parts.push(info.note);
  return parts.join(' · ');
}

function RunBadge({ state }: { state: NodeRunState | undefined }) {
  if (!state) return null;
  const text =
    state.status === 'done' || state.status === 'cached'
      ? `${state.status === 'cached' ? 'cached' : formatMs(state.ms ?? 0)}`
      : state.status;
  return <span className={`run-badge ${state.status}`}>{text}</span>;
}

function ProgressBar({ progress }: { progress: { value: number; max: number; label?: string } }) {
  const fraction = progress.max > 0 ? Math.min(1, progress.value / progress.max) : 0;
  return (
    <div className="node-progress" title={progress.label ?? `${progress.value}/${progress.max}`}>
      <div className="node-progress-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      <span className="node-progress-text">{progress.label ?? `${progress.value}/${progress.max}`}</span>
    </div>
  );
}

/** Diagnostics not shown under a param field (the node's own, and those of params whose field is hidden). */
function NodeMessages({ diagnostics, runState }: { diagnostics: Diagnostic[]; runState: NodeRunState | undefined }) {
  if (diagnostics.length === 0 && !runState?.error) return null;
  return (
    <div className="node-diagnostics nowheel">
      {diagnostics.map((d) => (
        <div key={`${d.code}:${d.port ?? ''}:${d.message}`} className={`diag ${d.severity}`} title={d.code}>
          {d.port ? `${d.port}: ` : d.param ? `${d.param}: ` : ''}
          {d.message}
        </div>
      ))}
      {runState?.error ? (
        <div className="diag error" title={runState.error.code}>
          {runState.error.code}: {runState.error.message}
        </div>
      ) : null}
    </div>
  );
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
