"""The epoch loop shared by the fine-tuned torch classifiers.

Seed 000 (../shared/seeds/000_6439293a44f381f6.txt): keep the best epoch by a validation score
(ROC-AUC macro), mixed fp16 on CUDA; seed 002 adds early stopping with a patience on that score.
A progress event goes out after every optimiser step; the callback may raise TrainingCancelled,
which propagates unchanged (nothing is saved).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from models_zoo.backends._torch_utils import autocast, copy_state_to_cpu, grad_scaler
from models_zoo.backends.base import ProgressCallback, ProgressEvent


@dataclass
class LoopResult:
    best_epoch: int
    best_criterion: tuple[float, ...]
    best_scores: np.ndarray
    history: list[dict[str, float | None]] = field(default_factory=list)


def run_epochs(
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any | None,
    epoch_batches: Callable[[int], Sequence[Any]],
    batch_loss: Callable[[Any], torch.Tensor],
    evaluate: Callable[[], tuple[np.ndarray, tuple[float, ...]]],
    epochs: int,
    patience: int,
    device: torch.device,
    fp16: bool = True,
    max_grad_norm: float | None = 1.0,
    progress: ProgressCallback | None = None,
) -> LoopResult:
    """Train for up to `epochs`, evaluate after each, restore the best epoch's weights.

    `epoch_batches(epoch)` gives that epoch's batches; `batch_loss(batch)` the loss of one;
    `evaluate()` returns (validation scores, criterion tuple) where a higher criterion is
    better, compared lexicographically (ROC-AUC first, then minus the validation loss).
    Training stops once the criterion has not improved for `patience` epochs."""
    scaler = grad_scaler(device, fp16)
    plan = [epoch_batches(0)]
    total_steps = len(plan[0]) * epochs
    step = 0
    best: LoopResult | None = None
    best_state: dict[str, torch.Tensor] | None = None
    stale = 0
    history: list[dict[str, float | None]] = []
    for epoch in range(epochs):
        batches = plan[0] if epoch == 0 else epoch_batches(epoch)
        model.train()
        running = 0.0
        for batch in batches:
            with autocast(device, fp16):
                loss = batch_loss(batch)
            scaler.scale(loss).backward()
            if max_grad_norm:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            if scheduler is not None:
                scheduler.step()
            step += 1
            value = float(loss.detach())
            running += value
            if progress is not None:
                progress(ProgressEvent(step=step, total_steps=total_steps, epoch=epoch + 1, loss=value,
                                       message=f"epoch {epoch + 1}/{epochs}"))
        model.eval()
        with torch.inference_mode():
            scores, criterion = evaluate()
        history.append({"epoch": epoch + 1, "train_loss": running / max(1, len(batches)),
                        "val_roc_auc": criterion[0] if math.isfinite(criterion[0]) else None,
                        "val_loss": -criterion[-1]})
        if best is None or criterion > best.best_criterion:
            best = LoopResult(best_epoch=epoch + 1, best_criterion=criterion, best_scores=scores)
            best_state = copy_state_to_cpu(model)
            stale = 0
        else:
            stale += 1
            if stale >= patience:
                break
    assert best is not None and best_state is not None
    model.load_state_dict(best_state)
    best.history = history
    return best
