#!/usr/bin/env python3
"""Exports a CoSeR model set (docs/coser.md) from a clone of the CoSeR reproduction and its checkpoints.

    python3 tools/coser-export/export_coser_set.py --repo REPRO_DIR --out SET_DIR [--ckpt FILE ...] [--tiny] [--fp16]

--ckpt: every checkpoint the reproduction's inference uses (the CoSeR checkpoint; the CFW checkpoint
vqgan_cfw_00011.ckpt; optionally SD 2.1-base / the Q-Former checkpoint / OpenCLIP ViT-H-14 weights when the CoSeR
checkpoint lacks them). Each file is loaded into the module its keys belong to. --tiny builds reduced-width,
random-initialised modules from the reproduction's own classes instead (no checkpoint; for tests). --fp16 stores
weights as float16 (inputs, outputs and arithmetic stay float32). Ends with `coser validate` on the set.
See tools/coser-export/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

STUDIO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run_validate(out_dir: str) -> int:
    """`coser validate graphs/coser-x4.json --models OUT` with the CLI of the studio checkout this tool lives in."""
    cli = os.path.join(STUDIO_ROOT, "packages", "server", "bin", "coser.js")
    node = shutil.which("node")
    if not node or not os.path.isfile(cli):
        print("coser validate: node or the studio CLI not found; run `npx coser validate graphs/coser-x4.json "
              f"--models {out_dir}` in the studio checkout")
        return 1
    command = [node, cli, "validate", "graphs/coser-x4.json", "--models", os.path.abspath(out_dir)]
    print("$ coser " + " ".join(command[2:]), flush=True)
    return subprocess.run(command, cwd=STUDIO_ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help="clone of TianheWu/CoSeR (tested at de02dbd)")
    parser.add_argument("--out", required=True, help="model-set folder to write")
    parser.add_argument("--ckpt", nargs="*", default=[], help="checkpoint files (.ckpt/.pth/.bin)")
    parser.add_argument("--tiny", action="store_true", help="reduced-width random weights, no checkpoints")
    parser.add_argument("--fp16", action="store_true", help="float16 weights, float32 inputs/outputs")
    parser.add_argument("--seed", type=int, default=0, help="weight seed of --tiny (default 0)")
    parser.add_argument("--no-validate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from coser_export import export, repro  # noqa: PLC0415 (after sys.path)

    repo = repro.repo_dir(args.repo)
    if not args.tiny and not args.ckpt:
        parser.error("give the checkpoints with --ckpt (or --tiny for random reduced-width modules)")
    for path in args.ckpt:
        if not os.path.isfile(path):
            parser.error(f"no such checkpoint: {path}")
    started = time.time()
    print(f"CoSeR export: {repro.python_info()}, reproduction at {repo}")
    model, vq_model, info = repro.build_models(repo, args.ckpt, tiny=args.tiny, seed=args.seed)
    if info["shims"]:
        print("import shims (modules not installed here): " + ", ".join(info["shims"]))
    for line in info["checkpoints"]:
        print(line)
    print(f"modules built in {time.time() - started:.1f} s; exporting at opset {export.OPSET} to {args.out}")
    export.clean_dir(args.out)
    kind = f"tiny random-weight (seed {args.seed})" if args.tiny else "checkpoint"
    description = (
        f"CoSeR reproduction, {kind} export at opset {export.OPSET}"
        + (", float16 weights" if args.fp16 else "")
        + (f"; import shims: {', '.join(info['shims'])}" if info["shims"] else "")
    )
    name = ("coser-tiny" if args.tiny else "coser-x4") + ("-fp16" if args.fp16 else "")
    manifest = export.export_set(
        model,
        vq_model,
        args.out,
        name=name,
        description=description,
        fp16=args.fp16,
        latent=8 if args.tiny else 64,
        log=print,
    )
    total = sum(entry.get("sizeBytes", 0) for entry in manifest["files"].values())
    print(f"wrote {len(manifest['files'])} files, {total / 1e6:.1f} MB, in {time.time() - started:.1f} s")
    if args.no_validate:
        return 0
    return run_validate(args.out)


if __name__ == "__main__":
    sys.exit(main())
