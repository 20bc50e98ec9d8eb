import { useEffect, useState } from 'react';
import { type OutputFile, type RunState, runMetrics, runNotes } from '../run/run-state';
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
  const notes = runNotes(run.outputs);
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
      {notes.map((note) => (
        <div key={note} className="diag warning run-note" data-testid="run-note">
          {note}
        </div>
      ))}
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
      {run.files.map((file) => (
        <ResultFile key={file.name} file={file} size={sizes.get(file.name)} beforeUrl={beforeUrl} />
      ))}
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

/** One output file: an image (with the before/after slider when the input is known), its size and a download link. */
function ResultFile({
  file,
  size,
  beforeUrl,
}: {
  file: OutputFile;
  size: { width: number; height: number } | undefined;
  beforeUrl: string | undefined;
}) {
  const measured = useImageSize(file.mime.startsWith('image/') && !size ? file.url : undefined);
  const dims = size ?? measured;
  return (
    <div className="result-file" data-testid="result-file" data-name={file.name}>
      {file.mime.startsWith('image/') && beforeUrl && dims ? (
        <CompareSlider before={beforeUrl} after={file.url} width={dims.width} height={dims.height} label={file.name} />
      ) : file.mime.startsWith('image/') ? (
        <img className="result-image" src={file.url} alt={file.name} />
      ) : null}
      <div className="result-meta">
        <span>{file.name}</span>
        <span data-testid="result-size">
          {dims ? `${dims.width}×${dims.height} · ` : ''}
          {(file.bytes / 1024).toFixed(1)} KiB
        </span>
        <a href={file.url} download={file.name} className="button">
          Download
        </a>
      </div>
    </div>
  );
}

/** The natural size of an image URL (output summaries of files may not carry one). */
function useImageSize(url: string | undefined): { width: number; height: number } | undefined {
  const [size, setSize] = useState<{ width: number; height: number } | undefined>(undefined);
  useEffect(() => {
    if (!url) return;
    const image = new Image();
    image.onload = () => setSize({ width: image.naturalWidth, height: image.naturalHeight });
    image.src = url;
  }, [url]);
  return size;
}
