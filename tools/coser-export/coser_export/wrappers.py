"""One torch.nn.Module per contract file: forward takes exactly the contract's inputs in order and returns its
outputs in order (docs/coser.md, "The ONNX contract"). Each wrapper calls the reproduction's own modules the way
its sampling code does (ldm/models/diffusion/ddpm.py, LatentDiffusionCogSR.p_sample_loop / p_mean_variance)."""

from __future__ import annotations

import torch
from torch import nn

#: Which of the ControlNet's 13 outputs feeds which contract map ctrl_i. UNetModelAiA.forward pops its `struct`
#: list from the end: the middle block takes outs[12], output blocks 0..11 take outs[11]..outs[0]; only the 9
#: output blocks at latent/4, /2, /1 have All-in-Attention transformers (outs[8]..outs[0]); outs[9..11] go to the
#: three blocks at latent/8, which do not read them.
SLOT_MAP = [12, 8, 7, 6, 5, 4, 3, 2, 1, 0]
UNUSED_SLOTS = [9, 10, 11]


class PreSr(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.net = model.pre_sr_model

    def forward(self, lr):
        return self.net(lr)


class ClipVision(nn.Module):
    """FrozenOpenCLIPImageTokenEmbedder.encode_with_vision_transformer: all 257 tokens through the visual
    projection, without ln_post (open_clip 2.20.0 with global_average_pool)."""

    def __init__(self, model):
        super().__init__()
        self.embedder = model.cond_stage_model

    def forward(self, pixels):
        return self.embedder.encode_with_vision_transformer(pixels)


class CogAdapter(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.adapter = model.global_adapter

    def forward(self, tokens):
        return self.adapter(tokens)


class ClipText(nn.Module):
    """FrozenOpenCLIPImageTokenEmbedder.encode_with_transformer: penultimate layer + ln_final (the embedder's
    forward returns (z, tokens); the context is z)."""

    def __init__(self, model):
        super().__init__()
        self.embedder = model.cond_stage_model

    def forward(self, input_ids):
        return self.embedder.encode_with_transformer(input_ids)


class VaeEncoder(nn.Module):
    """encode_first_stage(x).mode(): the posterior mean. DiagonalGaussianDistribution splits the moments with
    torch.chunk, which exports the channel dim as symbolic; slicing the first half keeps it a fixed 4."""

    def __init__(self, model):
        super().__init__()
        self.vae = model.first_stage_model
        self.channels = self.vae.quant_conv.out_channels // 2

    def forward(self, image):
        moments = self.vae.quant_conv(self.vae.encoder(image))
        return moments[:, : self.channels]


class CfwFeatures(nn.Module):
    """vq_model.encode(x)'s encoder features: level 1 (f2, H/2) and level 2 (f4, H/4) (inference.py:331)."""

    def __init__(self, vq_model):
        super().__init__()
        self.encoder = vq_model.encoder

    def forward(self, image):
        _, features = self.encoder(image, return_fea=True)
        return features[0], features[1]


class CfwDecoder(nn.Module):
    """vq_model.decode(z, enc_fea) with the fusion weight as an input (inference.py:225 sets decoder.fusion_w)."""

    def __init__(self, vq_model):
        super().__init__()
        self.vq = vq_model

    def forward(self, z, f2, f4, w):
        self.vq.decoder.fusion_w = w
        try:
            return self.vq.decode(z, [f2, f4])
        finally:
            self.vq.decoder.fusion_w = 0.5


class VaeDecoder(nn.Module):
    """first_stage_model.decode(z) (decode_first_stage without the 1/0.18215, which the studio applies)."""

    def __init__(self, model):
        super().__init__()
        self.vae = model.first_stage_model

    def forward(self, z):
        return self.vae.decode(z)


class ControlNet(nn.Module):
    """structcond_stage_model(x, hint, t, prompt_emb, lr_prompt=lr_prompt_emb): the ControlNet concatenates
    [prompt_emb; lr_prompt] in every transformer, so the contract's whole context goes in as lr_prompt with
    prompt_emb=None (the conditional pass: [text 77; cognitive 50])."""

    def __init__(self, model):
        super().__init__()
        self.net = model.structcond_stage_model

    def forward(self, x, hint, t, context):
        outs = self.net(x, hint, t, None, lr_prompt=context)
        return tuple(outs[i] for i in SLOT_MAP)


def _struct(maps):
    struct = [None] * 13
    for i, slot in enumerate(SLOT_MAP):
        struct[slot] = maps[i]
    return struct


class UnetAia(nn.Module):
    """model.model.diffusion_model(x, t, condition): `struct` / `ref_struct` rebuilt from the ten maps in slot
    order; the context goes in as lr_prompt_emb with prompt_emb=None (the conditional pass concatenates
    [text; cognitive], the unconditional one is the negative prompt alone: p_sample_loop's cond / cond_ne)."""

    def __init__(self, model):
        super().__init__()
        self.unet = model.model.diffusion_model

    def forward(self, x, t, context, *maps):
        condition = {
            "struct": _struct(maps[:10]),
            "ref_struct": _struct(maps[10:]),
            "prompt_emb": None,
            "lr_prompt_emb": context,
        }
        return self.unet(x, t, condition)


class UnetGen(nn.Module):
    """The same UNet with gen_mode=True (reference generation: the All-in-Attention branches are skipped)."""

    def __init__(self, model):
        super().__init__()
        self.unet = model.model.diffusion_model

    def forward(self, x, t, context):
        return self.unet(x, t, {"prompt_emb": None, "lr_prompt_emb": context}, gen_mode=True)


def _spatial(name: str, d: int) -> dict:
    return {2: "h" if d == 1 else f"h/{d}", 3: "w" if d == 1 else f"w/{d}"}


def specs(model, vq_model, latent: int, token_width: int):
    """Per contract file: (wrapper, example inputs, input names, output names, dynamic axes)."""
    c = token_width
    lat = latent
    px = lat * 8
    x = torch.randn(1, 4, lat, lat)
    t = torch.tensor([500], dtype=torch.int64)
    context = torch.randn(1, 127, c)
    controlnet = ControlNet(model)
    with torch.no_grad():
        maps = controlnet(x, torch.randn_like(x), t, context)
    downs = [lat // m.shape[-1] for m in maps]
    ctrl_names = [f"ctrl_{i}" for i in range(10)]
    lr_names = [f"lr_{i}" for i in range(10)]
    ref_names = [f"ref_{i}" for i in range(10)]
    latent_axes = {2: "h", 3: "w"}
    map_axes = {n: _spatial(n, d) for names in (ctrl_names, lr_names, ref_names) for n, d in zip(names, downs)}
    image = torch.rand(1, 3, px, px) * 2 - 1
    with torch.no_grad():
        f2, f4 = CfwFeatures(vq_model)(image)
    return {
        "presr.onnx": (
            PreSr(model),
            (torch.rand(1, 3, 24, 20),),
            ["lr"],
            ["sr"],
            {"lr": {2: "h", 3: "w"}, "sr": {2: "4h", 3: "4w"}},
        ),
        "clip_vision.onnx": (ClipVision(model), (torch.randn(1, 3, 224, 224),), ["pixels"], ["tokens"], {}),
        "cog_adapter.onnx": (CogAdapter(model), (torch.randn(1, 257, c),), ["tokens"], ["cognitive"], {}),
        "clip_text.onnx": (
            ClipText(model),
            (torch.randint(0, 49407, (1, 77), dtype=torch.int64),),
            ["input_ids"],
            ["context"],
            {},
        ),
        "vae_encoder.onnx": (
            VaeEncoder(model),
            (image,),
            ["image"],
            ["latent"],
            {"image": {2: "H", 3: "W"}, "latent": {2: "H/8", 3: "W/8"}},
        ),
        "cfw_features.onnx": (
            CfwFeatures(vq_model),
            (image,),
            ["image"],
            ["f2", "f4"],
            {"image": {2: "H", 3: "W"}, "f2": {2: "H/2", 3: "W/2"}, "f4": {2: "H/4", 3: "W/4"}},
        ),
        "controlnet.onnx": (
            controlnet,
            (x, torch.randn_like(x), t, context),
            ["x", "hint", "t", "context"],
            ctrl_names,
            {"x": latent_axes, "hint": latent_axes, "context": {1: "L"}, **{n: map_axes[n] for n in ctrl_names}},
        ),
        "unet_aia.onnx": (
            UnetAia(model),
            (x, t, context, *maps, *[m * 0.5 for m in maps]),
            ["x", "t", "context", *lr_names, *ref_names],
            ["eps"],
            {
                "x": latent_axes,
                "context": {1: "L"},
                **{n: map_axes[n] for n in lr_names + ref_names},
                "eps": latent_axes,
            },
        ),
        "unet_gen.onnx": (
            UnetGen(model),
            (x, t, context),
            ["x", "t", "context"],
            ["eps"],
            {"x": latent_axes, "context": {1: "L"}, "eps": latent_axes},
        ),
        "cfw_decoder.onnx": (
            CfwDecoder(vq_model),
            (x, f2, f4, torch.tensor([0.5])),
            ["z", "f2", "f4", "w"],
            ["image"],
            {"z": latent_axes, "f2": {2: "4h", 3: "4w"}, "f4": {2: "2h", 3: "2w"}, "image": {2: "8h", 3: "8w"}},
        ),
        "vae_decoder.onnx": (
            VaeDecoder(model),
            (x,),
            ["z"],
            ["image"],
            {"z": latent_axes, "image": {2: "8h", 3: "8w"}},
        ),
    }
