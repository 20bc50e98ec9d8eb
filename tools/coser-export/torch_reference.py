#!/usr/bin/env python3
"""PyTorch reference numbers for a --tiny set, for the parity test of the export tool (test/coser-export.test.ts).

    python3 tools/coser-export/torch_reference.py --repo REPRO_DIR --image LR.png --out DIR [--steps 4] [--seed 0]

rebuilds the --tiny modules (same weight seed as the export) and writes into DIR:
- modules/FILE/{inputs,outputs}/NAME.bin + index.json: each contract file's torch wrapper on fixed inputs, at
  sizes other than the ones the export traced (so the dynamic axes are exercised);
- pipeline.json + *.bin: scripts/inference.py:276-349 on the image (pre-SR, CLIP + cognitive adapter, text
  tensors, VAE encode, reference chain, restoration, CFW decode with w = 0.5, no colour fix), with the noise drawn
  from the studio's stream (StudioRng(seed)) instead of torch's, one stream for x_T, the reference and the
  restoration, as the reproduction draws it.
Raw little-endian float32 (int64 for t and input_ids).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from coser_export import repro, wrappers  # noqa: E402
from coser_export.studio_rng import StudioRng  # noqa: E402


def save(path: str, tensor: torch.Tensor) -> dict:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    array = tensor.detach().cpu().numpy()
    dtype = "int64" if array.dtype == np.int64 else "float32"
    array.astype("<i8" if dtype == "int64" else "<f4").tofile(path)
    return {"file": os.path.basename(path), "dtype": dtype, "shape": list(array.shape)}


def module_references(model, vq_model, out: str) -> None:
    """Each wrapper at a latent of 12 x 16 (the export traced 8 x 8) and an LR of 20 x 28 px."""
    g = torch.Generator().manual_seed(3)
    c = int(model.global_adapter.query_tokens.shape[-1])
    h, w = 12, 16
    x = torch.randn(1, 4, h, w, generator=g)
    t = torch.tensor([617], dtype=torch.int64)
    ctx_cond = torch.randn(1, 127, c, generator=g)
    ctx_uncond = torch.randn(1, 77, c, generator=g)
    image = torch.rand(1, 3, h * 8, w * 8, generator=g) * 2 - 1
    controlnet = wrappers.ControlNet(model)
    with torch.no_grad():
        maps = controlnet(x, torch.randn(1, 4, h, w, generator=g), t, ctx_cond)
        f2, f4 = wrappers.CfwFeatures(vq_model)(image)
    cases = {
        "presr.onnx": (wrappers.PreSr(model), {"lr": torch.rand(1, 3, 28, 20, generator=g)}),
        "clip_vision.onnx": (wrappers.ClipVision(model), {"pixels": torch.randn(1, 3, 224, 224, generator=g)}),
        "cog_adapter.onnx": (wrappers.CogAdapter(model), {"tokens": torch.randn(1, 257, c, generator=g)}),
        "clip_text.onnx": (
            wrappers.ClipText(model),
            {"input_ids": torch.tensor([[49406, 320, 1125, 539, 320, 2368, 49407] + [0] * 70], dtype=torch.int64)},
        ),
        "vae_encoder.onnx": (wrappers.VaeEncoder(model), {"image": image}),
        "cfw_features.onnx": (wrappers.CfwFeatures(vq_model), {"image": image}),
        "controlnet.onnx": (
            controlnet,
            {"x": x, "hint": torch.randn(1, 4, h, w, generator=g), "t": t, "context": ctx_cond},
        ),
        "unet_aia.onnx": (
            wrappers.UnetAia(model),
            {
                "x": x,
                "t": t,
                "context": ctx_uncond,
                **{f"lr_{i}": m for i, m in enumerate(maps)},
                **{f"ref_{i}": m * 0.7 + 0.1 for i, m in enumerate(maps)},
            },
        ),
        "unet_gen.onnx": (wrappers.UnetGen(model), {"x": x, "t": t, "context": ctx_cond}),
        "cfw_decoder.onnx": (
            wrappers.CfwDecoder(vq_model),
            {"z": x, "f2": f2, "f4": f4, "w": torch.tensor([0.3])},
        ),
        "vae_decoder.onnx": (wrappers.VaeDecoder(model), {"z": x}),
    }
    names = {
        "presr.onnx": ["sr"],
        "clip_vision.onnx": ["tokens"],
        "cog_adapter.onnx": ["cognitive"],
        "clip_text.onnx": ["context"],
        "vae_encoder.onnx": ["latent"],
        "cfw_features.onnx": ["f2", "f4"],
        "controlnet.onnx": [f"ctrl_{i}" for i in range(10)],
        "unet_aia.onnx": ["eps"],
        "unet_gen.onnx": ["eps"],
        "cfw_decoder.onnx": ["image"],
        "vae_decoder.onnx": ["image"],
    }
    index = {}
    for file, (wrapper, feeds) in cases.items():
        with torch.no_grad():
            result = wrapper(*feeds.values())
        result = result if isinstance(result, tuple) else (result,)
        base = os.path.join(out, "modules", file)
        index[file] = {
            "inputs": {k: save(os.path.join(base, "inputs", k + ".bin"), v) for k, v in feeds.items()},
            "outputs": {k: save(os.path.join(base, "outputs", k + ".bin"), v) for k, v in zip(names[file], result)},
        }
    with open(os.path.join(out, "modules", "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)


def pipeline_reference(repo: str, model, vq_model, image_path: str, steps: int, seed: int, out: str) -> None:
    """scripts/inference.py:276-349 with the studio's noise stream, on CPU."""
    import open_clip  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415
    from torchvision import transforms  # noqa: PLC0415

    import ldm.models.diffusion.ddpm as ddpm  # noqa: PLC0415

    sqrt_ac, sqrt_1m_ac = repro.setup_inference_schedule(repo, model, steps)
    stream = StudioRng(seed)

    def take(shape):
        return torch.from_numpy(stream.take(int(np.prod(shape)))).reshape(shape)

    ddpm.noise_like = lambda shape, device, repeat=False: take(tuple(shape)).to(device)
    results = {}
    with torch.no_grad():
        image = transforms.ToTensor()(Image.open(image_path).convert("RGB")).unsqueeze(0)
        image_ps = model.pre_sr_model(image)
        cur_image = image * 2.0 - 1.0
        cur_image = torch.nn.functional.interpolate(
            cur_image, size=(int(cur_image.size(-2) * 4.0), int(cur_image.size(-1) * 4.0)), mode="bicubic"
        )
        im_lq_bs = cur_image.clamp(-1, 1)
        init_latent = model.get_first_stage_encoding(model.encode_first_stage(im_lq_bs).mode())
        clip_image_features = model.cond_stage_model.encode_with_vision_transformer(model.clip_transfrom(image_ps))
        cog_embed = model.global_adapter(clip_image_features)
        semantic_user = model.cond_stage_model.encode_with_transformer(open_clip.tokenize([""]))
        semantic_neg = model.cond_stage_model.encode_with_transformer(open_clip.tokenize(repro.NEGATIVE_PROMPT))
        noise = take(tuple(init_latent.shape))
        t = torch.tensor([999]).long()
        x_t = model.q_sample_respace(
            x_start=init_latent, t=t, sqrt_alphas_cumprod=sqrt_ac, sqrt_one_minus_alphas_cumprod=sqrt_1m_ac, noise=noise
        )
        zero = model.get_first_stage_encoding(model.encode_first_stage(torch.zeros(im_lq_bs.shape)).mode())
        ref, samples = repro.inference_chains(
            model, init_latent, x_t, semantic_user, cog_embed, semantic_neg, zero, steps
        )
        _, enc_fea_lq = vq_model.encode(im_lq_bs)
        vq_model.decoder.fusion_w = 0.5
        x_samples = vq_model.decode(samples * 1.0 / model.scale_factor, enc_fea_lq)
        im_sr = torch.clamp((x_samples + 1.0) / 2.0, min=0.0, max=1.0)
    for name, tensor in (
        ("presr", image_ps),
        ("cognitive", cog_embed),
        ("latent", init_latent),
        ("reference", ref),
        ("restored", samples),
        ("image", im_sr),
    ):
        results[name] = save(os.path.join(out, name + ".bin"), tensor)
    with open(os.path.join(out, "pipeline.json"), "w", encoding="utf-8") as f:
        json.dump({"steps": steps, "seed": seed, "outputs": results}, f, indent=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="noise seed (the graphs' seed param)")
    parser.add_argument("--weights-seed", type=int, default=0, help="the export's --seed")
    args = parser.parse_args()
    repo = repro.repo_dir(args.repo)
    model, vq_model, _ = repro.build_models(repo, tiny=True, seed=args.weights_seed)
    module_references(model, vq_model, args.out)
    pipeline_reference(repo, model, vq_model, args.image, args.steps, args.seed, args.out)
    print(f"wrote torch references to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
