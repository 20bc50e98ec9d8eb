// Hand-encoded minimal ONNX models for backend tests (ModelProto field numbers from onnx.proto), so the runtime's
// tests do not depend on @coser/nodes' full builder.
import protobuf from 'protobufjs';

type Dim = number | string;

const LEN = 2;
const VARINT = 0;

function valueInfo(w: protobuf.Writer, field: number, name: string, dims: readonly Dim[]): void {
  w.uint32((field << 3) | LEN).fork();
  w.uint32((1 << 3) | LEN).string(name);
  w.uint32((2 << 3) | LEN).fork(); // TypeProto
  w.uint32((1 << 3) | LEN).fork(); // tensor_type
  w.uint32((1 << 3) | VARINT).int32(1); // elem_type FLOAT
  w.uint32((2 << 3) | LEN).fork(); // shape
  for (const dim of dims) {
    w.uint32((1 << 3) | LEN).fork();
    if (typeof dim === 'number') w.uint32((1 << 3) | VARINT).int64(dim);
    else w.uint32((2 << 3) | LEN).string(dim);
    w.ldelim();
  }
  w.ldelim().ldelim().ldelim().ldelim();
}

/**
 * A model with float inputs `a` and `b` of shape `dims` and output `sum` = a + b (one Add node, opset 17).
 * With `identity`, a single Identity node from `a` to `sum` and no `b`.
 */
export function tinyAddModel(dims: readonly Dim[] = [1, 'n'], identity = false): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | VARINT).int64(8); // ir_version
  w.uint32((2 << 3) | LEN).string('coser-test'); // producer_name
  w.uint32((7 << 3) | LEN).fork(); // graph
  w.uint32((1 << 3) | LEN).fork(); // node
  w.uint32((1 << 3) | LEN).string('a');
  if (!identity) w.uint32((1 << 3) | LEN).string('b');
  w.uint32((2 << 3) | LEN).string('sum');
  w.uint32((3 << 3) | LEN).string('op');
  w.uint32((4 << 3) | LEN).string(identity ? 'Identity' : 'Add');
  w.ldelim();
  w.uint32((2 << 3) | LEN).string('tiny');
  valueInfo(w, 11, 'a', dims);
  if (!identity) valueInfo(w, 11, 'b', dims);
  valueInfo(w, 12, 'sum', dims);
  w.ldelim();
  w.uint32((8 << 3) | LEN).fork(); // opset_import
  w.uint32((1 << 3) | LEN).string('');
  w.uint32((2 << 3) | VARINT).int64(17);
  w.ldelim();
  return w.finish();
}
