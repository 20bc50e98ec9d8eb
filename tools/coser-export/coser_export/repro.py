"""Builds the reproduction's modules the way its scripts/inference.py does, on CPU or GPU, without network.

- `build_models(repo, ckpts, tiny, seed)` instantiates `LatentDiffusionCogSR` from configs/CoSeR/inference.yaml and
  the CFW autoencoder from configs/autoencoder/autoencoder_kl_64x64x4_resi.yaml (inference.py:214-225), with the
  config's download/init paths switched off (no SD, Q-Former or laion download: the weights come from the
  checkpoints given), xformers and gradient checkpointing off, then loads each checkpoint into the module its keys
  belong to. `tiny=True` shrinks every width and re-initialises all weights randomly (zero-initialised branches
  included, so that every input matters): the same classes and code paths, no checkpoint needed.
- `setup_inference_schedule(model, steps)` is inference.py:248-270 (the respaced DDPM schedule).
- `load_function(repo, path, name)` takes one top-level function from a reproduction file without importing the
  file (scripts/inference.py imports the whole training stack at module level).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import os
import sys

import numpy as np
import torch

from . import shims

#: Latent channels and the SD latent scale (config: channels 4, scale_factor 0.18215).
LATENT_CHANNELS = 4
#: Classifier-free guidance of both chains (inference.py --cfg and --cfg_ref defaults).
GUIDANCE = 3.0

#: The reproduction's negative prompt (scripts/inference.py:160, the --neg_prompt default).
NEGATIVE_PROMPT = (
    "worst quality, normal quality, low quality, low res, blurry, text, watermark, logo, banner, extra digits, "
    "cropped, jpeg artifacts, signature, username, error, sketch ,duplicate, ugly, monochrome, horror, geometry, "
    "mutation, disgusting"
)

#: Widths of the --tiny build. Token width 32 (divisible by CogAdapter's 16 heads), GroupNorm needs multiples of 32.
TINY_TOKEN_WIDTH = 32
TINY_CLIP = {
    "embed_dim": TINY_TOKEN_WIDTH,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 48, "head_width": 16, "patch_size": 14},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": TINY_TOKEN_WIDTH, "heads": 2, "layers": 3},
}
TINY_BERT = {"intermediate_size": 64, "vocab_size": 16, "max_position_embeddings": 64}
# channel_mult keeps the real [1, 2, 4, 4]: UNetModelAiA hard-codes half-width maps (dubch) where a level doubles.
TINY_UNET = {"model_channels": 32, "channel_mult": [1, 2, 4, 4], "num_head_channels": 16}
TINY_VAE = {"ch": 32, "ch_mult": [1, 1, 2, 2], "num_res_blocks": 1, "resolution": 64}


def load_function(repo: str, relative_path: str, name: str, namespace: dict | None = None):
    """Returns the top-level function `name` of a reproduction file, compiled from its own source text."""
    path = os.path.join(repo, relative_path)
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            module = ast.Module(body=[node], type_ignores=[])
            scope = {"torch": torch, "np": np, "math": __import__("math"), **(namespace or {})}
            exec(compile(module, path, "exec"), scope)  # noqa: S102 (the reproduction's own code)
            return scope[name]
    raise LookupError(f"{relative_path} has no function {name}")


def load_method_source(repo: str, relative_path: str, class_name: str, name: str, namespace: dict | None = None):
    """Like load_function for a method of a class (called with an explicit `self`)."""
    path = os.path.join(repo, relative_path)
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    item.decorator_list = []
                    module = ast.Module(body=[item], type_ignores=[])
                    scope = {"torch": torch, "np": np, **(namespace or {})}
                    exec(compile(module, path, "exec"), scope)  # noqa: S102
                    return scope[name]
    raise LookupError(f"{relative_path} has no method {class_name}.{name}")


def _open_clip_2_20():
    import open_clip  # noqa: PLC0415
    from open_clip import version  # noqa: PLC0415

    if version.__version__ != "2.20.0":
        raise SystemExit(
            f"open_clip {version.__version__} is installed; the reproduction needs exactly 2.20.0 (from 2.23 the "
            "vision tower returns 256 tokens and may apply the final layer norm): pip install open_clip_torch==2.20.0"
        )
    return open_clip


def _no_checkpointing(module: torch.nn.Module) -> None:
    for m in module.modules():
        for attr in ("checkpoint", "use_checkpoint"):
            if isinstance(getattr(m, attr, None), bool):
                setattr(m, attr, False)


def _randomise(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Random weights everywhere (zero-initialised convs too), scaled so activations stay O(1)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) / max(fan_in, 1) ** 0.5)
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=generator))


def _configs(repo: str, tiny: bool):
    from omegaconf import OmegaConf  # noqa: PLC0415

    config = OmegaConf.load(os.path.join(repo, "configs/CoSeR/inference.yaml"))
    cfw = OmegaConf.load(os.path.join(repo, "configs/autoencoder/autoencoder_kl_64x64x4_resi.yaml"))
    params = config.model.params
    # No initialisation from other files (the checkpoints given replace them) and no downloads.
    params.ckpt_path = None
    params.pretrained_presr_qformer_path = None
    params.first_stage_config.params.ckpt_path = None
    params.cond_stage_config.params.version = None
    params.cond_stage_config.params.device = "cpu"
    params.structcond_stage_config.params.use_checkpoint = False
    params.unet_config.params.use_checkpoint = False
    cfw.model.params.lossconfig = {"target": "torch.nn.Identity"}
    cfw.model.params.pop("ckpt_path", None)
    if tiny:
        for key in ("unet_config", "structcond_stage_config"):
            params[key].params.update(TINY_UNET)
            params[key].params.context_dim = TINY_TOKEN_WIDTH
        params.first_stage_config.params.ddconfig.update(TINY_VAE)
        cfw.model.params.ddconfig.update(TINY_VAE)
        params.pre_sr_config.params.update({"num_feat": 16, "num_block": 2})
        params.cog_enc_config.params.update({"vision_width": TINY_TOKEN_WIDTH, "num_hidden_layers": 2})
        params.cond_stage_config.params.arch = "coser-tiny"
    return config, cfw


def _checkpoint_state(path: str) -> dict:
    state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise SystemExit(f"{path} holds no state dict")
    return state


def _load_checkpoints(model, vq_model, paths: list[str]) -> list[str]:
    """Loads each checkpoint where its keys belong; returns a report line per file."""
    report = []
    clip_keys = ("visual.", "transformer.", "token_embedding.", "positional_embedding", "ln_final.")
    for path in paths:
        state = _checkpoint_state(path)
        keys = list(state)
        if any(k.startswith("decoder.fusion_layer") for k in keys):
            target, name = vq_model, "CFW autoencoder (vq_model)"
        elif all(k.startswith(clip_keys) or k in ("text_projection", "logit_scale") for k in keys):
            target, name = model.cond_stage_model.model, "OpenCLIP ViT-H-14 (cond_stage_model.model)"
        else:
            target, name = model, "LatentDiffusionCogSR"
        missing, unexpected = target.load_state_dict(state, strict=False)
        report.append(f"{os.path.basename(path)} -> {name}: {len(keys) - len(unexpected)} tensors loaded")
        report.append(f"  ({len(missing)} of the module's tensors not in this file, {len(unexpected)} keys unused)")
    return report


def build_models(repo: str, ckpts: list[str] | None = None, tiny: bool = False, seed: int = 0):
    """Returns (model, vq_model, info) in eval mode on CPU; info has 'shims' and 'checkpoints' report lines."""
    shimmed = shims.install(repo)
    shims.patch_offline(TINY_BERT if tiny else None)
    open_clip = _open_clip_2_20()
    if tiny:
        open_clip.factory._MODEL_CONFIGS["coser-tiny"] = copy.deepcopy(TINY_CLIP)
    import ldm.modules.attention as attention  # noqa: PLC0415
    import ldm.modules.diffusionmodules.openaimodel as openaimodel  # noqa: PLC0415
    from ldm.util import instantiate_from_config  # noqa: PLC0415

    # xformers' memory-efficient attention has no ONNX export: use the plain softmax path.
    attention.XFORMERS_IS_AVAILBLE = False
    openaimodel.XFORMERS_IS_AVAILBLE = False
    for cls in vars(attention).values():
        if isinstance(cls, type) and "softmax-xformers" in getattr(cls, "ATTENTION_MODES", {}):
            cls.ATTENTION_MODES = {**cls.ATTENTION_MODES, "softmax-xformers": cls.ATTENTION_MODES["softmax"]}
    config, cfw_config = _configs(repo, tiny)
    torch.manual_seed(seed)
    # The constructors print every parameter name; keep the tool's output readable.
    with contextlib.redirect_stdout(io.StringIO()):
        model = instantiate_from_config(config.model)
        vq_model = instantiate_from_config(cfw_config.model)
    model.configs = config
    info = {"shims": shimmed, "checkpoints": []}
    if tiny:
        generator = torch.Generator().manual_seed(seed)
        _randomise(model, generator)
        _randomise(vq_model, generator)
    elif ckpts:
        info["checkpoints"] = _load_checkpoints(model, vq_model, ckpts)
    vq_model.decoder.fusion_w = 0.5  # inference.py:225 (--dec_w default); the export feeds w as an input
    for m in (model, vq_model):
        _no_checkpointing(m)
        m.eval()
        m.requires_grad_(False)
    return model, vq_model, info


def setup_inference_schedule(repo: str, model, steps: int):
    """scripts/inference.py:248-270: the respaced schedule. Returns (sqrt_alphas_cumprod, sqrt_one_minus) of the
    1000-step schedule, which x_T is made with."""
    space_timesteps = load_function(repo, "scripts/inference.py", "space_timesteps")
    model.register_schedule(
        given_betas=None, beta_schedule="linear", timesteps=1000, linear_start=0.00085, linear_end=0.0120, cosine_s=8e-3
    )
    model.num_timesteps = 1000
    sqrt_alphas_cumprod = copy.deepcopy(model.sqrt_alphas_cumprod)
    sqrt_one_minus_alphas_cumprod = copy.deepcopy(model.sqrt_one_minus_alphas_cumprod)
    use_timesteps = set(space_timesteps(1000, [steps]))
    last_alpha_cumprod = 1.0
    new_betas = []
    for i, alpha_cumprod in enumerate(model.alphas_cumprod):
        if i in use_timesteps:
            new_betas.append(1 - alpha_cumprod / last_alpha_cumprod)
            last_alpha_cumprod = alpha_cumprod
    new_betas = [beta.data.cpu().numpy() for beta in new_betas]
    model.register_schedule(given_betas=np.array(new_betas), timesteps=len(new_betas))
    model.num_timesteps = 1000
    model.ori_timesteps = sorted(use_timesteps)
    return sqrt_alphas_cumprod, sqrt_one_minus_alphas_cumprod


def inference_chains(model, init_latent, x_t, semantic_user, cog_embed, semantic_neg, zero_latent, steps: int):
    """scripts/inference.py:309-322: the reference chain (gen_mode), then the restoration from the same x_T.
    Returns (reference latent, restored latent). `zero_latent` is cond_ne's reference, which is never read."""
    cond = {"prompt_emb": semantic_user, "lr_prompt_emb": cog_embed}
    cond_ne = {"prompt_emb": None, "lr_prompt_emb": semantic_neg}
    ref, _ = model.sample(
        cond=cond, cond_ne=cond_ne, cfg=GUIDANCE, batch_size=1, timesteps=steps, time_replace=steps, x_T=x_t,
        return_intermediates=True, gen_mode=True, verbose=False,
    )
    cond = {"prompt_emb": semantic_user, "lr_prompt_emb": cog_embed, "lr": init_latent, "reference": ref}
    cond_ne = {"prompt_emb": None, "lr_prompt_emb": semantic_neg, "lr": init_latent, "reference": zero_latent}
    samples, _ = model.sample(
        cond=cond, cond_ne=cond_ne, cfg=GUIDANCE, batch_size=1, timesteps=steps, time_replace=steps, x_T=x_t,
        return_intermediates=True, verbose=False,
    )
    return ref, samples


def repo_dir(path: str) -> str:
    path = os.path.abspath(path)
    marker = os.path.join(path, "ldm/models/diffusion/ddpm.py")
    if not os.path.isfile(marker):
        raise SystemExit(f"{path} is not a clone of the CoSeR reproduction (no ldm/models/diffusion/ddpm.py)")
    return path


def python_info() -> str:
    return f"python {sys.version.split()[0]}, torch {torch.__version__}"
