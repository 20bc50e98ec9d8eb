import { type ChangeEvent, type DragEvent, useId, useState } from 'react';
import { coerceNumber, outOfBounds, type WidgetSpec } from '../graph/param-schema';
import { type CatalogueModel, describeInstall, describeSize, type InstallState } from '../run/server-models';
import type { ModelListing, PickedModel } from '../worker/model-loader';
import { ModelSetPicker } from './model-set-picker';

/** What widgets need from the editor beyond their value: model lists, installs, uploads, local files. */
export interface WidgetServices {
  models: readonly ModelListing[];
  /** Why `models` is short (e.g. the token was refused): pickers say this instead of "not installed". */
  modelsProblem?: string;
  /** Server mode: a model in the server's catalogue and its install, if any (undefined: not a catalogue model). */
  modelStatus?(name: string): { model: CatalogueModel; install?: InstallState } | undefined;
  /** Server mode: installs a catalogue model on the server. */
  installModel?(name: string): void;
  /** Uploads an image for Load Image; resolves with the value for the `path` param. */
  uploadImage(file: File): Promise<string>;
  /**
   * Local mode: a model file the user picked for the model `name`. Resolves with the name it runs under: `name`
   * when it is that model (same sha256), else the file's own name.
   */
  pickLocalModel?(name: string, file: File): Promise<PickedModel>;
  /** Local mode: the CoSeR model-set folders opened on this device, and opening one. */
  modelSets?: readonly string[];
  openModelSet?(name: string, files: File[]): void;
}

export interface ParamFieldProps {
  spec: WidgetSpec;
  value: unknown;
  onChange(value: unknown): void;
  services: WidgetServices;
  /** Shown under the field (a diagnostic about this param). */
  error?: string;
}

/** One param of a node, edited with the widget its JSON Schema calls for. */
export function ParamField({ spec, value, onChange, services, error }: ParamFieldProps) {
  const id = useId();
  const current = value === undefined ? spec.defaultValue : value;
  // A value outside the bounds is kept and shown with them (the diagnostic, once validation ran, says it too).
  const message = error ?? outOfBounds(spec, current);
  return (
    <div className={`param nodrag${message ? ' param-error' : ''}`} title={spec.description} data-param={spec.key}>
      <label htmlFor={id} className="param-label">
        {spec.label}
      </label>
      <Widget id={id} spec={spec} value={current} onChange={onChange} services={services} />
      {message ? <div className="param-message">{message}</div> : null}
    </div>
  );
}

interface WidgetProps {
  id: string;
  spec: WidgetSpec;
  value: unknown;
  onChange(value: unknown): void;
  services: WidgetServices;
}

function Widget(props: WidgetProps) {
  const { id, spec, value, onChange } = props;
  switch (spec.kind) {
    case 'slider':
      return <SliderWidget {...props} />;
    case 'number':
      return <NumberInput id={id} spec={spec} value={value} onChange={onChange} />;
    case 'choice-or-number':
      return <ChoiceOrNumber {...props} />;
    case 'select':
      return (
        <select
          id={id}
          value={String(value ?? '')}
          onChange={(e) => {
            const picked = spec.options?.find((o) => String(o) === e.target.value);
            onChange(picked ?? e.target.value);
          }}
        >
          {(spec.options ?? []).map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      );
    case 'checkbox':
      return <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
    case 'text':
      return (
        <input
          id={id}
          type="text"
          value={typeof value === 'string' ? value : ''}
          maxLength={spec.maxLength}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'textarea':
      return (
        <textarea
          id={id}
          className="nowheel"
          rows={3}
          value={typeof value === 'string' ? value : ''}
          maxLength={spec.maxLength}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case 'model':
      return <ModelPicker {...props} />;
    case 'model-set':
      return <ModelSetPicker {...props} />;
    case 'image-path':
      return <ImagePicker {...props} />;
    case 'json':
      return <JsonInput {...props} />;
  }
}

function SliderWidget({ id, spec, value, onChange }: WidgetProps) {
  const n = typeof value === 'number' ? value : Number(spec.defaultValue ?? spec.min ?? 0);
  return (
    <div className="slider-row">
      <input
        type="range"
        aria-label={`${spec.label} slider`}
        min={spec.min}
        max={spec.max}
        step={spec.step}
        // The thumb cannot leave the track: an out-of-bounds value sits at the end, the field shows it as it is.
        value={Math.min(spec.max ?? n, Math.max(spec.min ?? n, n))}
        onChange={(e) => onChange(coerceNumber(spec, Number(e.target.value), value))}
      />
      <NumberInput id={id} spec={spec} value={n} onChange={onChange} />
    </div>
  );
}

/** A number field that lets the user type freely and commits a clamped value on blur/Enter. */
function NumberInput({ id, spec, value, onChange }: Pick<WidgetProps, 'id' | 'spec' | 'value' | 'onChange'>) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const commit = () => {
    if (draft === undefined) return;
    if (draft.trim() !== '') onChange(coerceNumber(spec, Number(draft), value));
    setDraft(undefined);
  };
  return (
    <input
      id={id}
      type="number"
      className={`number-input${outOfBounds(spec, value) ? ' invalid' : ''}`}
      min={spec.min}
      max={spec.max}
      step={spec.step ?? 'any'}
      value={draft ?? (typeof value === 'number' ? String(value) : '')}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
      }}
    />
  );
}

function ChoiceOrNumber({ id, spec, value, onChange }: WidgetProps) {
  const options = spec.options ?? [];
  const isChoice = options.some((o) => o === value);
  return (
    <div className="slider-row">
      <select
        aria-label={`${spec.label} mode`}
        value={isChoice ? String(value) : '__number'}
        onChange={(e) => {
          if (e.target.value === '__number') onChange(coerceNumber(spec, spec.min ?? 0, value));
          else onChange(options.find((o) => String(o) === e.target.value));
        }}
      >
        {options.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
        <option value="__number">number</option>
      </select>
      {isChoice ? null : <NumberInput id={id} spec={spec} value={value} onChange={onChange} />}
    </div>
  );
}

function ModelPicker({ id, value, onChange, services }: WidgetProps) {
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const names = services.models.map((m) => m.name);
  const current = typeof value === 'string' ? value : '';
  const missing = current !== '' && !names.includes(current);
  const problem = services.modelsProblem;
  const listed = services.models.find((m) => m.name === current);
  const status = current ? services.modelStatus?.(current) : undefined;
  return (
    <div className="model-picker-field">
      <div className="model-picker">
        <select id={id} value={current} onChange={(e) => onChange(e.target.value)}>
          {missing ? (
            <option value={current}>
              {current} ({problem ? 'not checked' : 'not listed'})
            </option>
          ) : null}
          {names.length === 0 && !missing ? (
            <option value="">{problem ? 'not checked' : 'no models found'}</option>
          ) : null}
          {services.models.map((model) => (
            <option key={model.name} value={model.name}>
              {/* Installed models carry their file's sha256; catalogue-only ones need an install or a file. */}
              {model.sha256 || problem ? model.name : `${model.name} (not installed)`}
            </option>
          ))}
        </select>
        {services.pickLocalModel ? (
          <label className="file-button" title="Use an .onnx file from this computer for local runs">
            file…
            <input
              type="file"
              accept=".onnx"
              hidden
              data-testid="model-file"
              onChange={(e) => {
                const file = e.target.files?.[0];
                e.target.value = '';
                if (!file) return;
                void services.pickLocalModel?.(current, file).then(
                  (result) => {
                    setPicked(
                      result.matched
                        ? `${file.name} is ${result.name} (sha256 ${result.sha256.slice(0, 12)} matches)`
                        : `${file.name} runs as ${result.name}${result.reason ? `: ${result.reason}` : ''}`,
                    );
                    if (result.name !== current) onChange(result.name);
                  },
                  (cause: Error) => setPicked(`${file.name}: ${cause.message}`),
                );
              }}
            />
          </label>
        ) : null}
      </div>
      {problem ? (
        <div className="param-message" data-testid="models-problem">
          {problem}
        </div>
      ) : status && !status.model.installed ? (
        <ModelInstallPrompt model={status.model} install={status.install} services={services} />
      ) : !services.modelStatus && listed && !listed.sha256 ? (
        <div className="param-note">
          not installed where this editor gets models: pick its .onnx with file…, or install it from the server's model
          manager
        </div>
      ) : null}
      {picked ? (
        <div className="param-note" data-testid="model-file-note">
          {picked}
        </div>
      ) : null}
    </div>
  );
}

/** "not installed on the server (~110 MB download) [Install]", then the install's steps, or its failure. */
function ModelInstallPrompt({
  model,
  install,
  services,
}: {
  model: CatalogueModel;
  install: InstallState | undefined;
  services: WidgetServices;
}) {
  const running = install?.state === 'running';
  return (
    <div className="model-install diag warning" data-testid="model-install">
      <span>
        {install && install.state !== 'done'
          ? describeInstall(install)
          : `${model.name} is not installed on the server (${describeSize(model)})`}
      </span>
      {!running && services.installModel ? (
        <button type="button" onClick={() => services.installModel?.(model.name)} data-testid="install-model">
          {install?.state === 'error' ? 'Retry' : 'Install'}
        </button>
      ) : null}
    </div>
  );
}

function ImagePicker({ id, value, onChange, services }: WidgetProps) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    setProblem(undefined);
    try {
      onChange(await services.uploadImage(file));
    } catch (cause) {
      setProblem(cause instanceof Error ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    e.stopPropagation();
    void upload(e.dataTransfer.files[0]);
  };
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop zone; the "choose…" button is the accessible path
    <div
      className="image-picker"
      data-testid="image-drop"
      onDragOver={(e) => {
        e.preventDefault();
        e.stopPropagation();
      }}
      onDrop={onDrop}
    >
      <span className="image-name">
        {busy ? 'uploading…' : typeof value === 'string' && value ? value : 'drop an image'}
      </span>
      <label className="file-button">
        choose…
        <input
          id={id}
          type="file"
          accept="image/png,image/jpeg,image/webp"
          hidden
          onChange={(e: ChangeEvent<HTMLInputElement>) => void upload(e.target.files?.[0])}
        />
      </label>
      {problem ? <div className="param-message">{problem}</div> : null}
    </div>
  );
}

function JsonInput({ id, value, onChange }: WidgetProps) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const [bad, setBad] = useState(false);
  return (
    <input
      id={id}
      type="text"
      className={bad ? 'invalid' : undefined}
      value={draft ?? JSON.stringify(value ?? null)}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={() => {
        if (draft === undefined) return;
        try {
          onChange(JSON.parse(draft));
          setBad(false);
          setDraft(undefined);
        } catch {
          setBad(true);
        }
      }}
    />
  );
}
