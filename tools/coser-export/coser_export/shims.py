"""Run-time import shims for the parts of the reproduction's environment that only have to be importable.

The reproduction (TianheWu/CoSeR) imports pytorch_lightning, taming, kornia, OpenAI's clip, cv2, matplotlib,
sklearn and basicsr's compiled CUDA ops at module level, although none of them is used by the modules a model
set is made of. `install()` puts a placeholder in sys.modules for each of those that is NOT importable, and only
then; a real installed package is always preferred. Three shims are functional, because the modules use them:

- `pytorch_lightning.LightningModule`: the base class of DDPM and AutoencoderKL; an nn.Module with `device`.
- `einops.rearrange` / `einops.repeat`: the attention blocks reshape with them (a small exact implementation of
  the patterns; einops 0.3.0 is the pinned real package).
- `transformers` pieces the Q-Former (ldm/models/Qformer.py) uses: BertConfig, ACT2FN, ModelOutput and the two
  output dataclasses, PreTrainedModel's init_weights / get_head_mask / invert_attention_mask / dtype,
  apply_chunking_to_forward. With all-ones attention masks (CogAdapter's only use) they compute what
  transformers 4.30.2 computes.
- `ftfy.fix_text` as the identity (exact for the ASCII prompts the set's text tensors are made from).

Nothing here is third-party code; each shim is written for the calls the reproduction makes. `install()`
returns the names it shimmed, and the exporter records them in coser-set.json's description.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import math
import os
import re
import sys
import types
from collections import OrderedDict

import torch
from torch import nn

# ---------------------------------------------------------------------------------------------------------------
# Placeholders for import-only modules


class _Placeholder:
    """Stands for any name imported from an import-only module. Used as a decorator it returns what it wraps;
    called otherwise (a decorator factory at import time) it gives another placeholder."""

    def __init__(self, name: str):
        self._name = name

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        return _Placeholder(f"{self._name}()")

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        return _Placeholder(f"{self._name}.{item}")

    def __mro_entries__(self, bases):
        return (object,)


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        return _Placeholder(f"{self.__name__}.{item}")


class _ShimFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves placeholder modules for names under `prefixes`, except those in `real` (loaded from their files)."""

    def __init__(self, prefixes: list[str], real: set[str]):
        self.prefixes = prefixes
        self.real = real

    def _covers(self, name: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in self.prefixes)

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.real or not self._covers(fullname):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        return None


# ---------------------------------------------------------------------------------------------------------------
# einops (rearrange / repeat)

_TOKEN = re.compile(r"\(|\)|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|\d+")


def _groups(side: str) -> list[list[str]]:
    groups: list[list[str]] = []
    current: list[str] | None = None
    for token in _TOKEN.findall(side):
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current or [])
            current = None
        elif current is None:
            groups.append([token])
        else:
            current.append(token)
    return groups


def _einops(tensor, pattern: str, sizes: dict, allow_new: bool):
    left_text, right_text = pattern.split("->")
    left, right = _groups(left_text), _groups(right_text)
    ellipsis_dims = tensor.dim() - len(left) + 1 if any("..." in g for g in left) else 0
    ell_names = [f"...{i}" for i in range(ellipsis_dims)]
    known = dict(sizes)
    elementary: list[str] = []
    dim = 0
    for group in left:
        if group == ["..."]:
            for n in ell_names:
                known[n] = tensor.shape[dim]
                elementary.append(n)
                dim += 1
            continue
        names = [g for g in group if not g.isdigit()]
        total = tensor.shape[dim]
        unknown = [n for n in names if n not in known]
        product = math.prod(known[n] for n in names if n in known)
        if len(unknown) > 1:
            raise ValueError(f"einops shim: cannot infer {unknown} in {pattern}")
        if unknown:
            known[unknown[0]] = total // product
        elementary.extend(names)
        dim += 1
    x = tensor.reshape([known[n] for n in elementary])
    right_elem = [n for grp in right for n in (ell_names if "..." in grp else [e for e in grp if not e.isdigit()])]
    present = [n for n in right_elem if n in elementary]
    dropped = [n for n in elementary if n not in right_elem]
    if dropped:
        raise ValueError(f"einops shim: axes {dropped} vanish in {pattern}")
    x = x.permute([elementary.index(n) for n in present])
    if len(present) != len(right_elem):
        if not allow_new:
            raise ValueError(f"einops shim: new axes in rearrange {pattern}")
        shape = []
        for i, n in enumerate(right_elem):
            if n not in elementary:
                x = x.unsqueeze(i)
            shape.append(known[n])
        x = x.expand(shape)
    out_shape = []
    for group in right:
        names = ell_names if "..." in group else [e for e in group if not e.isdigit()]
        out_shape.append(math.prod(known[n] for n in names) if names else 1)
    return x.reshape(out_shape)


def _einops_module() -> types.ModuleType:
    module = types.ModuleType("einops")
    module.rearrange = lambda tensor, pattern, **sizes: _einops(tensor, pattern, sizes, False)
    module.repeat = lambda tensor, pattern, **sizes: _einops(tensor, pattern, sizes, True)
    module.reduce = _Placeholder("einops.reduce")  # imported by ldm/modules/x_transformer.py, never called here
    module.__version__ = "0.3.0-coser-shim"
    return module


# ---------------------------------------------------------------------------------------------------------------
# pytorch_lightning


def _lightning_modules() -> dict[str, types.ModuleType]:
    pl = _PlaceholderModule("pytorch_lightning")
    pl.__path__ = []

    class LightningModule(nn.Module):
        @property
        def device(self):
            for p in self.parameters():
                return p.device
            for b in self.buffers():
                return b.device
            return torch.device("cpu")

    pl.LightningModule = LightningModule
    pl.seed_everything = lambda seed=None, **_: torch.manual_seed(seed or 0)
    utilities = _PlaceholderModule("pytorch_lightning.utilities")
    utilities.__path__ = []
    distributed = _PlaceholderModule("pytorch_lightning.utilities.distributed")
    distributed.rank_zero_only = lambda fn: fn
    utilities.distributed = distributed
    pl.utilities = utilities
    return {
        "pytorch_lightning": pl,
        "pytorch_lightning.utilities": utilities,
        "pytorch_lightning.utilities.distributed": distributed,
    }


# ---------------------------------------------------------------------------------------------------------------
# transformers (what ldm/models/Qformer.py uses)

#: bert-base-uncased's config.json (transformers 4.30.2), inline so that no download is needed.
BERT_BASE_UNCASED = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "transformers_version": "4.30.2",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 30522,
}


class _BertConfig:
    """The attributes of transformers.BertConfig that the Q-Former reads, with bert-base-uncased's values."""

    def __init__(self, **kwargs):
        values = {
            **BERT_BASE_UNCASED,
            "output_attentions": False,
            "output_hidden_states": False,
            "use_return_dict": True,
            "add_cross_attention": False,
            "chunk_size_feed_forward": 0,
            "is_decoder": False,
            **kwargs,
        }
        for key, value in values.items():
            setattr(self, key, value)

    @classmethod
    def from_pretrained(cls, name, **kwargs):
        if name != "bert-base-uncased":
            raise ValueError(f"only bert-base-uncased is known inline, not {name}")
        return cls(**kwargs)


class _ModelOutput(OrderedDict):
    def __init__(self, *args, **kwargs):
        super().__init__((k, v) for k, v in kwargs.items() if v is not None)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        return self.get(key)

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return tuple(self.values())[key]
        return super().__getitem__(key)

    def to_tuple(self):
        return tuple(self.values())


class _PreTrainedModel(nn.Module):
    config_class = None
    base_model_prefix = ""

    def __init__(self, config, *args, **kwargs):
        super().__init__()
        self.config = config

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    def _init_weights(self, module):  # overridden by BertPreTrainedModel
        pass

    def init_weights(self):
        self.apply(self._init_weights)

    def get_head_mask(self, head_mask, num_hidden_layers, is_attention_chunked=False):
        if head_mask is not None:
            raise NotImplementedError("head masks are not used by the Q-Former")
        return [None] * num_hidden_layers

    def invert_attention_mask(self, mask):
        if mask.dim() == 3:
            mask = mask[:, None, :, :]
        elif mask.dim() == 2:
            mask = mask[:, None, None, :]
        mask = mask.to(dtype=self.dtype)
        return (1.0 - mask) * torch.finfo(self.dtype).min


def _apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    if chunk_size > 0:
        chunks = [t.chunk(input_tensors[0].shape[chunk_dim] // chunk_size, dim=chunk_dim) for t in input_tensors]
        return torch.cat([forward_fn(*c) for c in zip(*chunks)], dim=chunk_dim)
    return forward_fn(*input_tensors)


def _transformers_modules() -> dict[str, types.ModuleType]:
    def mod(name: str) -> _PlaceholderModule:
        m = _PlaceholderModule(name)
        m.__path__ = []
        return m

    root = mod("transformers")
    root.__version__ = "4.30.2-coser-shim"
    root.BertConfig = _BertConfig
    activations = mod("transformers.activations")

    class _Act(dict):
        def __getitem__(self, key):
            return {"gelu": nn.GELU, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu_new": lambda: nn.GELU("tanh")}[key]()

    activations.ACT2FN = _Act()
    file_utils = mod("transformers.file_utils")
    file_utils.ModelOutput = _ModelOutput
    outputs = mod("transformers.modeling_outputs")
    for name in (
        "BaseModelOutputWithPastAndCrossAttentions",
        "BaseModelOutputWithPoolingAndCrossAttentions",
        "CausalLMOutputWithCrossAttentions",
        "MaskedLMOutput",
        "BaseModelOutput",
        "BaseModelOutputWithPooling",
    ):
        setattr(outputs, name, type(name, (_ModelOutput,), {}))
    modeling_utils = mod("transformers.modeling_utils")
    modeling_utils.PreTrainedModel = _PreTrainedModel
    modeling_utils.apply_chunking_to_forward = _apply_chunking_to_forward
    utils = mod("transformers.utils")
    utils.logging = types.SimpleNamespace(get_logger=logging.getLogger)
    bert_config = mod("transformers.models.bert.configuration_bert")
    bert_config.BertConfig = _BertConfig
    return {
        "transformers": root,
        "transformers.activations": activations,
        "transformers.file_utils": file_utils,
        "transformers.modeling_outputs": outputs,
        "transformers.modeling_utils": modeling_utils,
        "transformers.utils": utils,
        "transformers.models": mod("transformers.models"),
        "transformers.models.bert": mod("transformers.models.bert"),
        "transformers.models.bert.configuration_bert": bert_config,
    }


# ---------------------------------------------------------------------------------------------------------------


def _importable(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


#: Packages the reproduction imports but the exported modules never call.
IMPORT_ONLY = ["taming", "kornia", "clip", "cv2", "matplotlib", "sklearn", "huggingface_hub", "scipy"]


def install(repo: str) -> list[str]:
    """Makes the reproduction at `repo` importable (adds it to sys.path) and shims what is missing. Idempotent."""
    repo = os.path.abspath(repo)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    shimmed: list[str] = []
    if not _importable("einops"):
        sys.modules["einops"] = _einops_module()
        shimmed.append("einops")
    if not _importable("pytorch_lightning"):
        sys.modules.update(_lightning_modules())
        shimmed.append("pytorch_lightning")
    if not _importable("transformers"):
        sys.modules.update(_transformers_modules())
        # Anything else under transformers (CLIP text classes in ldm/modules/encoders) is import-only.
        sys.meta_path.insert(0, _ShimFinder(["transformers"], set()))
        shimmed.append("transformers")
    if not _importable("ftfy"):
        ftfy = types.ModuleType("ftfy")
        ftfy.fix_text = lambda text, **_: text
        sys.modules["ftfy"] = ftfy
        shimmed.append("ftfy")
    missing = [name for name in IMPORT_ONLY if not _importable(name)]
    # basicsr (inside the reproduction) imports every subpackage, data loaders and compiled CUDA ops from its
    # __init__; only MSRResNet's and RRDB's files (CFW fusion blocks) and the registry are needed, the rest are placeholders.
    basicsr_real = {
        "basicsr.archs.srresnet_arch",
        "basicsr.archs.rrdbnet_arch",
        "basicsr.archs.arch_util",
        "basicsr.utils.registry",
    }
    for package in ("basicsr", "basicsr.archs", "basicsr.utils"):
        if package not in sys.modules:
            module = _PlaceholderModule(package)
            module.__path__ = [os.path.join(repo, *package.split("."))]
            sys.modules[package] = module
    sys.meta_path.insert(0, _ShimFinder(missing + ["basicsr"], basicsr_real | {"basicsr.archs", "basicsr.utils"}))
    shimmed.extend(missing)
    shimmed.append("basicsr (all but archs.srresnet_arch, archs.rrdbnet_arch, archs.arch_util, utils.registry)")
    return shimmed


def patch_offline(tiny_bert: dict | None = None) -> None:
    """No network: BertConfig.from_pretrained('bert-base-uncased') answers from the inline config."""
    from ldm.models import Qformer  # noqa: PLC0415 (after install())

    base = Qformer.BertConfig
    overrides = dict(tiny_bert or {})

    def from_pretrained(name, **kwargs):
        if name != "bert-base-uncased":
            raise ValueError(f"only bert-base-uncased is known inline, not {name}")
        return base(**{**BERT_BASE_UNCASED, **overrides, **kwargs})

    Qformer.BertConfig.from_pretrained = staticmethod(from_pretrained)
    from ldm.models import global_adapter  # noqa: PLC0415

    global_adapter.BertConfig = Qformer.BertConfig
