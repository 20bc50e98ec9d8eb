import { type RunState, runMetrics } from '../run/run-state';
import { CompareSlider } from './compare-slider';
import { formatMs } from './coser-node';

export interface ResultsPanelProps {
  run: RunState;
  /** URL of the run's input image (the upload Load Image read), for the before/after slider. */
  beforeUrl?: string;
}

/** The run's status, its output images (with a before/after slider), Compare metrics and downloads. */
export function ResultsPanel({ run, beforeUrl }: ResultsPanelProps) {
  const metrics = runMetrics(run.outputs);
  const sizes = imageSizes(run);
  return (
    <aside className="results" data-testid="results">
      <h2>Results</h2>
      <div className={`run-status ${run.status}`} data-testid="run-status">
        {statusText(run)}
      </div>
      {run.error ? (
        <div className="diag error" data-testid="run-error">
          {run.error.code}: {run.error.message}
          {run.error.node ? ` (node ${run.error.node})` : ''}
        </div>
      ) : null}
      {metrics.length > 0 ? (
        <table className="metrics" data-testid="metrics">
          <tbody>
            {metrics.flatMap(({ node, values }) =>
              Object.entries(values).map(([name, value]) => (
                <tr key={`${node}.${name}`}>
                  <th>{node}</th>
                  <td>{name}</td>
                  <td>{Number.isInteger(value) ? value : value.toFixed(4)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      ) : null}
      {run.files.map((file) => {
        const size = sizes.get(file.name);
        return (
          <div key={file.name} className="result-file" data-testid="result-file" data-name={file.name}>
            {file.mime.startsWith('image/') && beforeUrl && size ? (
              <CompareSlider
                before={beforeUrl}
                after={file.url}
                width={size.width}
                height={size.height}
                label={file.name}
              />
            ) : file.mime.startsWith('image/') ? (
              <img className="result-image" src={file.url} alt={file.name} />
            ) : null}
            <div className="result-meta">
              <span>{file.name}</span>
              <span>
                {size ? `${size.width}×${size.height} · ` : ''}
                {(file.bytes / 1024).toFixed(1)} KiB
              </span>
              <a href={file.url} download={file.name} className="button">
                Download
              </a>
            </div>
          </div>
        );
      })}
    </aside>
  );
}

function statusText(run: RunState): string {
  switch (run.status) {
    case 'idle':
      return 'Not run yet';
    case 'submitting':
      return 'Starting…';
    case 'queued':
      return `Queued (position ${run.position ?? '?'})`;
    case 'running': {
      const nodes = Object.values(run.nodes);
      const finished = nodes.filter((n) => n.status === 'done' || n.status === 'cached').length;
      return `Running: ${finished}/${nodes.length} nodes`;
    }
    case 'done':
      return `Done in ${formatMs(run.ms ?? 0)}`;
    case 'error':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

/** Output file name -> image size, from the run:done summaries of file outputs. */
function imageSizes(run: RunState): Map<string, { width: number; height: number }> {
  const sizes = new Map<string, { width: number; height: number }>();
  for (const ports of Object.values(run.outputs)) {
    for (const summary of Object.values(ports)) {
      if (summary.kind === 'file' && summary.width !== undefined && summary.height !== undefined) {
        const name = summary.path.split(/[\\/]/).pop() ?? summary.path;
        sizes.set(name, { width: summary.width, height: summary.height });
      }
    }
  }
  return sizes;
}
