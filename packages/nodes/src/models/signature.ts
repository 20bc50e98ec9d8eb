/**
 * Whether an ONNX graph's signature fits an image-to-image super-resolution node: one float32 NCHW input with 3
 * channels (or a dynamic channel dim) and one NCHW output. Browser-safe.
 */
import type { OnnxSummary, OnnxValueInfo } from '../onnx/reader';

const FLOAT32 = 1;

/** A reason the model cannot serve as an RGB super-resolution model, or undefined when it fits. */
export function checkSrSignature(summary: Pick<OnnxSummary, 'inputs' | 'outputs'>): string | undefined {
  if (summary.inputs.length !== 1) return `expected one image input, the model has ${summary.inputs.length}`;
  if (summary.outputs.length < 1) return 'the model has no output';
  const input = summary.inputs[0]!;
  const output = summary.outputs[0]!;
  return checkImageTensor(input, 'input') ?? checkImageTensor(output, 'output');
}

function checkImageTensor(info: OnnxValueInfo, what: string): string | undefined {
  if (info.elemType !== FLOAT32) return `${what} ${info.name} is not float32 (ONNX type ${info.elemType})`;
  if (info.dims.length !== 4) return `${what} ${info.name} has rank ${info.dims.length}, not NCHW (rank 4)`;
  const channels = info.dims[1];
  if (typeof channels === 'number' && channels !== 3)
    return `${what} ${info.name} has ${channels} channels; RGB (3) models are supported`;
  return undefined;
}
