/** Element types the runtime moves between nodes and inference sessions. */
export type TensorDType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8';

export interface TensorDataMap {
  float32: Float32Array;
  /** IEEE half floats as raw bits. */
  float16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
}

/** A dense row-major tensor, backend-neutral: adapters convert to and from onnxruntime's tensors. */
export interface Tensor<D extends TensorDType = TensorDType> {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: TensorDataMap[D];
}

export function tensorSize(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function float32Tensor(dims: readonly number[], data?: Float32Array): Tensor<'float32'> {
  const size = tensorSize(dims);
  if (data && data.length !== size)
    throw new RangeError(`tensor data has ${data.length} values, dims [${dims}] need ${size}`);
  return { dtype: 'float32', dims: [...dims], data: data ?? new Float32Array(size) };
}

export function int64Tensor(dims: readonly number[], values: readonly (number | bigint)[]): Tensor<'int64'> {
  return { dtype: 'int64', dims: [...dims], data: BigInt64Array.from(values, (v) => BigInt(v)) };
}
