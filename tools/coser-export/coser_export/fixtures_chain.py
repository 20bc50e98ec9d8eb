"""Fixtures that need the reproduction's modules (the --tiny build): the 4-step chain and the VAE encoder export.

chain.json: scripts/inference.py:300-322 run on tiny random modules, 4 steps, with the noise drawn from the
studio's stream (StudioRng, mirror of rng.ts) instead of torch's: x_T's noise, then every p_sample's noise_like
(ddpm.py:2919) of the reference chain, then the restoration's, one stream. Every network call is recorded (its x,
t, which context / hint, and the eps it returned), so the studio's nodes can be replayed against it without the
models: they must feed the same inputs and, given the same eps, reach the same latents.
"""

from __future__ import annotations

import os
import tempfile

import onnx
import torch

from . import repro
from .export import _tensor_info, export_file
from .studio_rng import StudioRng

STEPS = 4
SEED = 7
GUIDANCE = repro.GUIDANCE
LATENT = 8


def chain_fixture(repo: str, f32, write) -> None:
    model, _, _ = repro.build_models(repo, tiny=True, seed=0)
    sqrt_ac, sqrt_1m_ac = repro.setup_inference_schedule(repo, model, STEPS)
    import ldm.models.diffusion.ddpm as ddpm  # noqa: PLC0415

    g = torch.Generator().manual_seed(11)
    width = model.global_adapter.query_tokens.shape[-1]
    z_lr = torch.randn(1, 4, LATENT, LATENT, generator=g) * 0.8
    positive = torch.randn(1, 77, width, generator=g)
    negative = torch.randn(1, 77, width, generator=g)
    cognitive = torch.randn(1, 50, width, generator=g)
    n = z_lr.numel()
    stream = StudioRng(SEED)

    def noise_like(shape, device, repeat=False):
        return torch.from_numpy(stream.take(int(torch.tensor(shape).prod()))).reshape(shape).to(device)

    ddpm.noise_like = noise_like
    calls = {"unet": [], "controlnet": []}
    original_apply = model.apply_model

    def apply_model(x, t, cond, return_ids=False, gen_mode=False):
        out = original_apply(x, t, cond, return_ids=return_ids, gen_mode=gen_mode)
        calls["unet"].append(
            {"t": int(t[0]), "x": f32(x[0]), "cond": cond["prompt_emb"] is not None, "eps": f32(out[0])}
        )
        return out

    model.apply_model = apply_model
    hint_kind = {}

    def controlnet_hook(_module, inputs, _output):
        x, hint, t = inputs[0], inputs[1], inputs[2]
        kind = next(k for k, v in hint_kind.items() if torch.equal(v, hint))
        calls["controlnet"].append({"t": int(t[0]), "x": f32(x[0]), "hint": kind})

    model.structcond_stage_model.register_forward_hook(controlnet_hook)
    with torch.no_grad():
        # inference.py:300-306
        noise = torch.from_numpy(stream.take(n)).reshape(z_lr.shape)
        t = torch.tensor([999]).long()
        x_t = model.q_sample_respace(
            x_start=z_lr, t=t, sqrt_alphas_cumprod=sqrt_ac, sqrt_one_minus_alphas_cumprod=sqrt_1m_ac, noise=noise
        )
        # inference.py:309-322, the calls recorded apart per chain
        hint_kind.update({"lr": z_lr})
        original_sample = model.sample

        def sample(*args, **kwargs):
            if not kwargs.get("gen_mode"):
                calls["reference"] = calls["unet"]
                calls["unet"] = []
                hint_kind["reference"] = kwargs["cond"]["reference"]
            return original_sample(*args, **kwargs)

        model.sample = sample
        ref, restored = repro.inference_chains(
            model, z_lr, x_t, positive, cognitive, negative, torch.zeros_like(z_lr), STEPS
        )
        reference_calls = calls["reference"]
    write(
        "chain.json",
        {
            "source": "scripts/inference.py:300-322 with LatentDiffusionCogSR.sample (ddpm.py:3020-3130, 3224) on "
            "the export tool's --tiny modules (seed 0); noise from StudioRng(seed) instead of torch",
            "steps": STEPS,
            "seed": SEED,
            "guidance": GUIDANCE,
            "timesteps": model.ori_timesteps,
            "zLr": f32(z_lr[0]),
            "positive": f32(positive[0]),
            "negative": f32(negative[0]),
            "cognitive": f32(cognitive[0]),
            "referenceCalls": reference_calls,
            "restoreUnetCalls": calls["unet"],
            "restoreControlnetCalls": calls["controlnet"],
            "reference": f32(ref[0]),
            "restored": f32(restored[0]),
        },
    )


def encoder_shapes_fixture(repo: str, write) -> None:
    """Fix 7: the VAE encoder exported as docs/coser.md used to say (encode_first_stage(x).mode(), whose
    torch.chunk makes the channel dim symbolic) and as the tool exports it (a slice: a fixed 4)."""
    from .wrappers import VaeEncoder  # noqa: PLC0415

    model, _, _ = repro.build_models(repo, tiny=True, seed=0)

    class ModeEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, image):
            return self.model.encode_first_stage(image).mode()

    shapes = {}
    image = (torch.rand(1, 3, 64, 64),)
    axes = {"image": {2: "H", 3: "W"}, "latent": {2: "H/8", 3: "W/8"}}
    with tempfile.TemporaryDirectory() as tmp:
        # As docs/coser.md used to say: torch.onnx.export of the posterior mean, nothing else.
        path = os.path.join(tmp, "chunk.onnx")
        torch.onnx.export(
            ModeEncoder(), image, path, opset_version=17, input_names=["image"], output_names=["latent"],
            dynamic_axes=axes,
        )
        # As the tool exports it.
        export_file("vae_encoder.onnx", (VaeEncoder(model), image, ["image"], ["latent"], axes), tmp, fp16=False)
        for key, file in (("chunk", "chunk.onnx"), ("tool", "vae_encoder.onnx")):
            graph = onnx.load(os.path.join(tmp, file)).graph
            shapes[key] = {"inputs": [_tensor_info(v) for v in graph.input], "outputs": [_tensor_info(v) for v in graph.output]}
    write(
        "vae-encoder-shapes.json",
        {
            "source": "torch.onnx.export at opset 17 of the --tiny AutoencoderKL: encode_first_stage(x).mode() "
            "(DiagonalGaussianDistribution, torch.chunk) vs tools/coser-export's VaeEncoder (slice)",
            **shapes,
        },
    )
