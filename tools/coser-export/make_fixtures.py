#!/usr/bin/env python3
"""Regenerates the reference fixtures of the studio's CoSeR fidelity tests from the reproduction's own code.

    PYTHONPATH=OPEN_CLIP_2_20_SRC python3 tools/coser-export/make_fixtures.py --repo REPRO_DIR

writes packages/nodes/src/coser/fixtures/*.json (small; committed). Each fixture names the reproduction file and
lines it comes from. Needs PyTorch (Debian's python3-torch 1.13.1 is enough) and, for chain.json and
vae-encoder-shapes.json, the tiny modules of the export tool (open_clip 2.20.0 importable). Float arrays are stored
as base64 little-endian float32 ("f32") so the files stay small.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from coser_export import fixtures_chain, repro  # noqa: E402
from coser_export.studio_rng import StudioRng  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages/nodes/src/coser/fixtures")


def f32(array) -> dict:
    a = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
    return {"shape": list(a.shape), "f32": base64.b64encode(a.tobytes()).decode("ascii")}


def write(name: str, value: dict) -> None:
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def resize_fixture() -> None:
    """Fix 1: torch's bicubic, as scripts/inference.py:285 (F.interpolate to int(side * 4)) and the CLIP
    transform (ddpm.py:1638-1645, torchvision tensor Resize((224, 224), BICUBIC)) compute it."""
    from torchvision import transforms  # noqa: PLC0415
    from torchvision.transforms.functional import InterpolationMode  # noqa: PLC0415

    g = torch.Generator().manual_seed(17)
    image = torch.rand(1, 1, 23, 17, generator=g) * 2 - 1  # 17 wide, 23 high, in [-1, 1]
    x4 = F.interpolate(image, size=(int(23 * 4.0), int(17 * 4.0)), mode="bicubic")
    down = F.interpolate(image, size=(7, 11), mode="bicubic")
    clip = transforms.Resize((224, 224), interpolation=InterpolationMode.BICUBIC)(image)
    stride = 7
    write(
        "resize.json",
        {
            "source": "torch.nn.functional.interpolate(mode='bicubic') as scripts/inference.py:285 calls it; "
            "torchvision Resize((224, 224), BICUBIC) on a tensor as ddpm.py:1638-1645 (clip_transfrom)",
            "torch": torch.__version__,
            "image": f32(image[0, 0]),
            "x4": f32(x4[0, 0]),
            "down": f32(down[0, 0]),
            "clipStride": stride,
            "clipSampled": f32(clip[0, 0, ::stride, ::stride]),
        },
    )


def tile_weights_fixture(repo: str) -> None:
    """Fix 2: LatentDiffusionCogSR._gaussian_weights (ddpm.py:3131-3147), compiled from its own source."""
    from types import SimpleNamespace  # noqa: PLC0415

    method = repro.load_method_source(repo, "ldm/models/diffusion/ddpm.py", "LatentDiffusionCogSR", "_gaussian_weights")
    fake = SimpleNamespace(
        betas=torch.zeros(1), configs=SimpleNamespace(model=SimpleNamespace(params=SimpleNamespace(channels=4)))
    )
    cases = []
    for w, h in ((64, 64), (9, 13), (13, 9), (8, 8)):
        weights = method(fake, w, h, 1)[0, 0].numpy()
        cases.append({"width": w, "height": h, "weights": f32(weights)})
    write("tile-weights.json", {"source": "ldm/models/diffusion/ddpm.py:3131-3147 _gaussian_weights", "cases": cases})


def timesteps_fixture(repo: str) -> None:
    """Fix 4: space_timesteps (scripts/inference.py:29-79), compiled from its own source."""
    space_timesteps = repro.load_function(repo, "scripts/inference.py", "space_timesteps")
    listed = [2, 3, 4, 7, 20, 21, 25, 50, 100, 250, 999, 1000]
    naive_differs = []
    for s in range(2, 1001):
        steps = sorted(space_timesteps(1000, [s]))
        naive = [round(k * 999 / (s - 1)) for k in range(s)]
        if steps != naive:
            naive_differs.append(s)
    write(
        "timesteps.json",
        {
            "source": "scripts/inference.py:29-79 space_timesteps(1000, [S])",
            "timesteps": {str(s): sorted(space_timesteps(1000, [s])) for s in listed},
            "differFromRoundedProduct": naive_differs,
        },
    )


def color_fix_fixture(repo: str) -> None:
    """Fix 5: scripts/wavelet_color_fix.py's adaptive_instance_normalization and wavelet_reconstruction."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("wavelet_color_fix", os.path.join(repo, "scripts/wavelet_color_fix.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    g = torch.Generator().manual_seed(5)
    content = torch.randn(1, 3, 12, 10, generator=g) * 0.6 + 0.1  # a decoder output, partly outside [-1, 1]
    style = (torch.rand(1, 3, 12, 10, generator=g) * 1.6 - 0.9).clamp(-1, 1)
    write(
        "color-fix.json",
        {
            "source": "scripts/wavelet_color_fix.py adaptive_instance_normalization / wavelet_reconstruction, "
            "applied as scripts/inference.py:339-349 (before the clamp, in [-1, 1])",
            "content": f32(content[0]),
            "style": f32(style[0]),
            "adain": f32(module.adaptive_instance_normalization(content, style)[0]),
            "wavelet": f32(module.wavelet_reconstruction(content, style)[0]),
            "adainImage": f32(torch.clamp((module.adaptive_instance_normalization(content, style) + 1) / 2, 0, 1)[0]),
        },
    )


def rng_fixture() -> None:
    rng = StudioRng(2887)
    write("rng.json", {"source": "coser_export/studio_rng.py (mirror of rng.ts)", "seed": 2887, "first": f32(rng.take(7))})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--only", nargs="*", help="fixture names to regenerate (default: all)")
    args = parser.parse_args()
    repo = repro.repo_dir(args.repo)
    from coser_export import shims  # noqa: PLC0415

    shims.install(repo)
    jobs = {
        "resize": resize_fixture,
        "tile-weights": lambda: tile_weights_fixture(repo),
        "timesteps": lambda: timesteps_fixture(repo),
        "color-fix": lambda: color_fix_fixture(repo),
        "rng": rng_fixture,
    }
    jobs["chain"] = lambda: fixtures_chain.chain_fixture(repo, f32, write)
    jobs["vae-encoder-shapes"] = lambda: fixtures_chain.encoder_shapes_fixture(repo, write)
    for name, job in jobs.items():
        if not args.only or name in args.only:
            job()
    return 0


if __name__ == "__main__":
    sys.exit(main())
