"""Seed 002's gated late fusion over CLIP text and image embeddings (torch only).

Seed 002 (../shared/seeds/002_58145e44d9d40203.txt, CLIP-ViT-Base MMHS150K fusion card):
CLIP text and image encoders -> linear projections to a fusion dim (512) -> a gated fusion
module fed with modality-presence flags (so text-only and image-only posts work) ->
interaction features [fused, t, v, |t - v|, t * v] -> MLP head, one logit per class.
A missing modality is a zero vector with its flag at 0; the gate learns to lean on the other one.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


def embedding_dims(clip: Any) -> tuple[int, int]:
    """Output sizes of get_text_features / get_image_features for a CLIP-like model."""
    config = clip.config
    projection = getattr(config, "projection_dim", None)
    if projection:
        return int(projection), int(projection)
    # SigLIP-style models have no projection: the pooled hidden states are the features.
    return int(config.text_config.hidden_size), int(config.vision_config.hidden_size)


def _features(output: Any) -> torch.Tensor:
    # transformers 4.x returns a tensor; 5.x a model output whose pooler_output is projected.
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class ClipFusionNet(nn.Module):
    """CLIP towers + projections + presence-aware gate + interaction MLP."""

    def __init__(self, clip: nn.Module, num_labels: int, fusion_dim: int = 512,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.clip = clip
        text_dim, image_dim = embedding_dims(clip)
        self.text_proj = nn.Linear(text_dim, fusion_dim)
        self.image_proj = nn.Linear(image_dim, fusion_dim)
        self.gate = nn.Linear(2 * fusion_dim + 2, fusion_dim)
        self.head = nn.Sequential(
            nn.Linear(5 * fusion_dim + 2, fusion_dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(fusion_dim, num_labels),
        )

    def head_state(self) -> dict[str, torch.Tensor]:
        """Everything except the CLIP towers (saved with save_pretrained)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("clip.")}

    def encode_text(self, text_inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return _features(self.clip.get_text_features(**text_inputs))

    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return _features(self.clip.get_image_features(pixel_values=pixel_values))

    def fuse(self, text_emb: torch.Tensor | None, image_emb: torch.Tensor | None,
             has_text: torch.Tensor, has_image: torch.Tensor) -> torch.Tensor:
        """Logits from the embeddings of the present modalities.

        `text_emb` holds rows only for items with `has_text` (likewise images), so encoders
        never run on placeholder inputs; missing rows become zero vectors."""
        batch = has_text.shape[0]
        width = self.text_proj.out_features
        dtype = self.text_proj.weight.dtype
        t = torch.zeros(batch, width, device=has_text.device, dtype=dtype)
        v = torch.zeros(batch, width, device=has_text.device, dtype=dtype)
        # CLIP embeddings are compared by cosine; unit length keeps both towers on one scale.
        if text_emb is not None and text_emb.shape[0]:
            t[has_text] = self.text_proj(nn.functional.normalize(text_emb.to(dtype), dim=-1))
        if image_emb is not None and image_emb.shape[0]:
            v[has_image] = self.image_proj(nn.functional.normalize(image_emb.to(dtype), dim=-1))
        flags = torch.stack([has_text, has_image], dim=1).to(dtype)
        g = torch.sigmoid(self.gate(torch.cat([t, v, flags], dim=1)))
        fused = g * t + (1 - g) * v
        features = torch.cat([fused, t, v, (t - v).abs(), t * v, flags], dim=1)
        return self.head(features)
