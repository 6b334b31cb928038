"""Shared torch plumbing for the backends: device choice, fp16 autocast on CUDA, seeding,
batching and safetensors state-dict files.

Written once here (like the `preprocess / _forward / postprocess` split of transformers
pipelines) so every backend treats device, precision and inference mode the same way. The
function names and signatures are stable: other backend modules import them.
"""
from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from models_zoo.backends.base import BackendError

T = TypeVar("T")

WEIGHTS_FILE = "weights.safetensors"


def pick_device(preference: str = "auto") -> torch.device:
    """`auto`: CUDA when present, CPU otherwise; `cpu` / `cuda` / `cuda:N` force one.

    Asking for CUDA on a machine without it is an error rather than a silent CPU fallback,
    so a misconfigured GPU worker is noticed."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {preference!r} requested but CUDA is not available")
    return device


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager[Any]:
    """fp16 autocast on CUDA (seed 000: mixed fp16), a no-op on CPU where fp16 is slow."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def grad_scaler(device: torch.device, enabled: bool = True) -> torch.amp.GradScaler:
    """A GradScaler that is active only when fp16 autocast is (CUDA)."""
    return torch.amp.GradScaler("cuda", enabled=enabled and device.type == "cuda")


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; returns a CPU torch.Generator for data shuffling so the
    batch order depends only on `seed`, not on what else ran in the process."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items, in order."""
    if size <= 0:
        raise ValueError(f"batch size must be positive, got {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def shuffled_batches(n: int, size: int, generator: torch.Generator) -> list[list[int]]:
    """Index batches over range(n) in a random order drawn from `generator`."""
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i : i + size] for i in range(0, n, size)]


def save_state_dict(module_or_state: torch.nn.Module | dict[str, torch.Tensor], path: str | Path,
                    metadata: dict[str, str] | None = None) -> Path:
    """Write a state dict as safetensors (never pickle). Tensors are moved to CPU and made
    contiguous; tied weights are written once per name via clones."""
    from safetensors.torch import save_file

    state = module_or_state.state_dict() if isinstance(module_or_state, torch.nn.Module) else module_or_state
    tensors = {name: t.detach().to("cpu").contiguous().clone() for name, t in state.items()}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target), metadata=metadata)
    return target


def load_state_dict(path: str | Path, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors state dict onto `device`."""
    from safetensors.torch import load_file

    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"{target}: weights file is missing")
    return load_file(str(target), device=str(device))


def load_head_weights(net: torch.nn.Module, path: str | Path, encoder_prefix: str,
                      device: torch.device | str = "cpu") -> None:
    """Load the head weights saved apart from an encoder (which came from its own directory).

    Every parameter outside `encoder_prefix` must be in the file and nothing else may be:
    a mismatch means the artifact does not belong to this network.
    """
    state = load_state_dict(path, device)
    missing, unexpected = net.load_state_dict(state, strict=False)
    head_missing = [k for k in missing if not k.startswith(encoder_prefix)]
    if head_missing or unexpected:
        raise BackendError(f"{path}: weights do not fit the network "
                           f"(missing {head_missing}, unexpected {unexpected})")
    net.eval()


def copy_state_to_cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a module's state, for keeping the best epoch in memory."""
    return {name: t.detach().to("cpu").clone() for name, t in module.state_dict().items()}

