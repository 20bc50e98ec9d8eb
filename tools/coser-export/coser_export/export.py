"""ONNX export of the contract files, fp16 weights, external data, text tensors and coser-set.json."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from . import wrappers
from .repro import NEGATIVE_PROMPT

OPSET = 17
#: Past this many bytes a model is saved with its weights in FILE.data (protobuf's limit is 2 GB).
EXTERNAL_DATA_MIN_BYTES = int(os.environ.get("COSER_EXPORT_EXTERNAL_DATA_MIN_BYTES", str(2_000_000_000)))

_DTYPES = {
    TensorProto.FLOAT: "float32",
    TensorProto.FLOAT16: "float16",
    TensorProto.INT64: "int64",
    TensorProto.INT32: "int32",
    TensorProto.UINT8: "uint8",
}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tensor_info(value_info) -> dict:
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or -1))
    return {"name": value_info.name, "dtype": _DTYPES[value_info.type.tensor_type.elem_type], "shape": dims}


def _fp16_weights(model: onnx.ModelProto) -> None:
    """Stores every float32 initializer as float16 behind a Cast back to float32: the file halves, inputs,
    outputs and arithmetic stay float32 (onnxruntime folds the casts once when it loads the model)."""
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or init.name.endswith("__fp16"):
            continue
        array = numpy_helper.to_array(init)
        if array.size < 16:  # scalars and tiny vectors: not worth a node
            continue
        half = numpy_helper.from_array(array.astype(np.float16), init.name + "__fp16")
        init.CopyFrom(half)
        casts.append(helper.make_node("Cast", [init.name], [init.name[: -len("__fp16")]], to=TensorProto.FLOAT))
    for node in reversed(casts):
        graph.node.insert(0, node)


def _pin_static_dims(model: onnx.ModelProto, names: list[str], shapes: list[tuple], axes: dict) -> None:
    """Declares every output dim that is not dynamic with its size. torch's exporter leaves some symbolic (a Slice
    or Split after dynamic spatial dims names even the batch and channel dims), and the studio's check refuses a
    symbolic dim where the contract fixes the size."""
    by_name = {v.name: v for v in model.graph.output}
    for name, shape in zip(names, shapes):
        dims = by_name[name].type.tensor_type.shape.dim
        for i, size in enumerate(shape):
            if i not in axes.get(name, {}):
                dims[i].Clear()
                dims[i].dim_value = int(size)


@contextlib.contextmanager
def _without_node_shape_inference():
    """torch.onnx (1.13) runs ONNX shape inference after converting every node, which grows with the square of the
    graph: the tiny UNet-AiA took over 10 CPU minutes, the ControlNet 16 s without it. Input and output shapes come
    from the trace and dynamic_axes either way (and _pin_static_dims), the exported ops are the same: the tiny
    ControlNet exported both ways gives identical outputs at a size it was not traced at."""
    from torch.onnx._globals import GLOBALS  # noqa: PLC0415 (private, but the only switch torch offers)

    saved = GLOBALS.onnx_shape_inference
    GLOBALS.onnx_shape_inference = False
    try:
        yield
    finally:
        GLOBALS.onnx_shape_inference = saved


def export_file(name: str, spec, out_dir: str, fp16: bool) -> list[str]:
    """Exports one contract file into out_dir; returns the files written (the model, and its .data if any)."""
    wrapper, args, inputs, outputs, axes = spec
    with torch.no_grad():
        result = wrapper(*args)
    shapes = [tuple(t.shape) for t in (result if isinstance(result, tuple) else (result,))]
    with tempfile.TemporaryDirectory() as tmp, _without_node_shape_inference():
        raw = os.path.join(tmp, name)
        with torch.no_grad():
            torch.onnx.export(
                wrapper,
                args,
                raw,
                opset_version=OPSET,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=axes,
                do_constant_folding=True,
            )
        model = onnx.load(raw)  # loads external data written next to it by torch for models over 2 GB
    _pin_static_dims(model, outputs, shapes, axes)
    if fp16:
        _fp16_weights(model)
    path = os.path.join(out_dir, name)
    data_name = name + ".data"
    if os.path.exists(os.path.join(out_dir, data_name)):
        os.remove(os.path.join(out_dir, data_name))
    if model.ByteSize() >= EXTERNAL_DATA_MIN_BYTES:
        onnx.save_model(
            model,
            path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data_name,
            size_threshold=1024,
        )
        return [name, data_name]
    onnx.save_model(model, path)
    return [name]


def text_tensors(model, out_dir: str, positive_prompt: str = "") -> dict[str, list[int]]:
    """positive.bin / negative.bin: FrozenOpenCLIPImageTokenEmbedder(text)[0] for the empty prompt (inference.py's
    default, no --user_prompt) and the reproduction's negative prompt, raw little-endian float32."""
    import open_clip  # noqa: PLC0415

    shapes = {}
    for file, text in (("positive.bin", [positive_prompt]), ("negative.bin", NEGATIVE_PROMPT)):
        with torch.no_grad():
            z = model.cond_stage_model.encode_with_transformer(open_clip.tokenize(text))
        z.float().numpy().astype("<f4").tofile(os.path.join(out_dir, file))
        shapes[file] = list(z.shape)
    return shapes


def write_manifest(out_dir: str, name: str, description: str, token_width: int, written: list[str], shapes) -> dict:
    files = {}
    for file in written:
        path = os.path.join(out_dir, file)
        entry = {"sha256": sha256_file(path), "sizeBytes": os.path.getsize(path)}
        if file.endswith(".onnx"):
            model = onnx.load(path, load_external_data=False)
            initializers = {i.name for i in model.graph.initializer}
            files[file] = {
                "kind": "onnx",
                **entry,
                "inputs": [_tensor_info(v) for v in model.graph.input if v.name not in initializers],
                "outputs": [_tensor_info(v) for v in model.graph.output],
            }
        elif file.endswith(".bin"):
            files[file] = {"kind": "tensor", **entry, "dtype": "float32", "shape": shapes[file]}
        else:
            files[file] = {"kind": "data", **entry}
    manifest = {
        "format": "coser-model-set",
        "version": 1,
        "name": name,
        "description": description,
        "tokenWidth": token_width,
        "files": files,
    }
    with open(os.path.join(out_dir, "coser-set.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def export_set(model, vq_model, out_dir: str, *, name: str, description: str, fp16: bool, latent: int, log) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    token_width = int(model.global_adapter.query_tokens.shape[-1])
    all_specs = wrappers.specs(model, vq_model, latent=latent, token_width=token_width)
    written: list[str] = []
    for file, spec in all_specs.items():
        start = time.time()
        written += export_file(file, spec, out_dir, fp16)
        log(f"  {file}: {time.time() - start:.1f} s")
    shapes = text_tensors(model, out_dir)
    written += list(shapes)
    return write_manifest(out_dir, name, description, token_width, written, shapes)


def clean_dir(out_dir: str) -> None:
    """Removes what an earlier export left (only files this tool writes)."""
    if not os.path.isdir(out_dir):
        return
    for entry in os.listdir(out_dir):
        if entry.endswith((".onnx", ".onnx.data", ".bin")) or entry == "coser-set.json":
            os.remove(os.path.join(out_dir, entry))
    shutil.rmtree(os.path.join(out_dir, "__pycache__"), ignore_errors=True)
