/**
 * Writes small ONNX models by hand, so tests can run onnxruntime without downloading one.
 * A minimal protobuf encoder (varints, fixed32, length-delimited) and the few ONNX messages
 * a graph needs. Field numbers are those of onnx/onnx.proto.
 */

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

function varint(value: number | bigint): Buffer {
  // int64 fields: negatives are their 64-bit two's complement, as protobuf encodes them.
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Buffer.from(bytes);
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const intField = (field: number, value: number | bigint) => Buffer.concat([key(field, WIRE_VARINT), varint(value)]);
const bytesField = (field: number, bytes: Buffer) => Buffer.concat([key(field, WIRE_BYTES), varint(bytes.length), bytes]);
const stringField = (field: number, value: string) => bytesField(field, Buffer.from(value, 'utf8'));
const floatField = (field: number, value: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return Buffer.concat([key(field, WIRE_FIXED32), b]);
};
const message = (...fields: Buffer[]) => Buffer.concat(fields);

/** ONNX TensorProto.DataType values for the element types tests use. */
export const DATA_TYPE = { float: 1, int64: 7 } as const;
export type ElementType = keyof typeof DATA_TYPE;

/** A graph input or output: a name, an element type and a shape (a string is a symbolic axis). */
export interface ValueSpec {
  readonly name: string;
  readonly type: ElementType;
  readonly shape: readonly (number | string)[];
}

/** A constant tensor stored in the model. */
export interface InitializerSpec {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

/** Attribute values: `{ int }`, `{ ints }`, `{ float }`, or `{ string }`. */
export type AttributeSpec = { readonly int: number } | { readonly ints: readonly number[] } | { readonly float: number } | { readonly string: string };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
}

export interface ModelSpec {
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly InitializerSpec[];
  /** Default-domain opset; default 13. */
  readonly opset?: number;
}

function valueInfo(v: ValueSpec): Buffer {
  const dims = v.shape.map((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : stringField(2, d))); // Dimension{dim_value|dim_param}
  const tensorType = message(intField(1, DATA_TYPE[v.type]), bytesField(2, message(...dims))); // TypeProto.Tensor{elem_type, shape}
  return message(stringField(1, v.name), bytesField(2, bytesField(1, tensorType))); // ValueInfoProto{name, type: TypeProto{tensor_type}}
}

function tensor(t: InitializerSpec): Buffer {
  const raw = t.type === 'float' ? Buffer.from(Float32Array.from(t.values).buffer) : Buffer.from(BigInt64Array.from(t.values, BigInt).buffer);
  // TensorProto{dims (unpacked), data_type, name, raw_data (little-endian)}; this writer assumes a little-endian host.
  return message(...t.dims.map((d) => intField(1, d)), intField(2, DATA_TYPE[t.type]), stringField(8, t.name), bytesField(9, raw));
}

function attribute(name: string, a: AttributeSpec): Buffer {
  // AttributeProto{name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20}; AttributeType FLOAT 1, INT 2, STRING 3, INTS 7.
  if ('int' in a) return message(stringField(1, name), intField(3, a.int), intField(20, 2));
  if ('float' in a) return message(stringField(1, name), floatField(2, a.float), intField(20, 1));
  if ('string' in a) return message(stringField(1, name), stringField(4, a.string), intField(20, 3));
  return message(stringField(1, name), ...a.ints.map((i) => intField(8, i)), intField(20, 7));
}

function node(n: NodeSpec, index: number): Buffer {
  // NodeProto{input = 1, output = 2, name = 3, op_type = 4, attribute = 5}
  return message(
    ...n.inputs.map((i) => stringField(1, i)),
    ...n.outputs.map((o) => stringField(2, o)),
    stringField(3, `${n.op.toLowerCase()}_${index}`),
    stringField(4, n.op),
    ...Object.entries(n.attributes ?? {}).map(([name, a]) => bytesField(5, attribute(name, a))),
  );
}

/**
 * The bytes of an ONNX ModelProto (IR version 8) with one graph.
 *
 * @example buildOnnxModel({ inputs: [{ name: 'x', type: 'float', shape: [1, 3] }], outputs: [...], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] })
 */
export function buildOnnxModel(spec: ModelSpec): Buffer {
  // GraphProto{node = 1, name = 2, initializer = 5, input = 11, output = 12}
  const graph = message(
    ...spec.nodes.map((n, i) => bytesField(1, node(n, i))),
    stringField(2, 'test_graph'),
    ...(spec.initializers ?? []).map((t) => bytesField(5, tensor(t))),
    ...spec.inputs.map((v) => bytesField(11, valueInfo(v))),
    ...spec.outputs.map((v) => bytesField(12, valueInfo(v))),
  );
  // ModelProto{ir_version = 1, producer_name = 2, graph = 7, opset_import = 8: OperatorSetIdProto{domain = 1, version = 2}}
  return message(intField(1, 8), stringField(2, 'atelier-tests'), bytesField(7, graph), bytesField(8, message(stringField(1, ''), intField(2, spec.opset ?? 13))));
}
