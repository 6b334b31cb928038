"""Does `clip_fusion` learn labels that depend on the image, on the text, or on both?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/fusion_synthetic.py [--clip DIR] [--n-train N]

No real image + text set is available here, so the set is generated: a coloured square (red,
yellow, blue or green; small or large; jittered position; noisy background) and a short text
built from keyword groups. Three labels:
- `warm` (image only): the square is red or yellow;
- `alarm` (text only): the text carries an alarm word (fire, flood, help, collapse);
- `water_large` (both): the text mentions water AND the square is large.
Training items are 70% image + text, 15% text only, 15% image only (labels follow what is
observable: without an image, `warm` and `water_large` are absent). The test split is scored
three times: with both modalities, text only, image only, always against the full-information
labels, so a label that needs the missing modality should fall to chance (ROC-AUC ~0.5).

Without `--clip`, the encoders are a tiny random CLIP (`tests/models_zoo/tiny_clip.py`) trained
end to end with a raised encoder learning rate (a random tower cannot be fine-tuned at 1e-5);
with `--clip DIR` a real CLIP checkpoint directory is used with the seed 002 defaults.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script, bench/ itself is sys.path[0] and bench/queue.py would shadow the standard
    # library's `queue` (torch imports it): put the project root there instead.
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from models_zoo.backends.base import Item

LABELS = ["warm", "alarm", "water_large"]
COLOURS = {"red": (210, 40, 40), "yellow": (225, 200, 40), "blue": (40, 60, 210), "green": (40, 170, 60)}
ALARM = ["fire", "flood", "help", "collapse"]
CALM = ["coffee", "music", "garden", "sunset"]
WATER = ["water", "river", "rain"]
DRY = ["road", "school", "market"]
FILLERS = ["near", "the", "today", "again", "look", "at", "this", "here", "now", "photo"]


def sentences() -> list[str]:
    words = ALARM + CALM + WATER + DRY + FILLERS
    rng = random.Random(0)
    return [" ".join(rng.choice(words) for _ in range(6)) for _ in range(200)] + [" ".join(words)]


def _image(rng: random.Random, colour: str, large: bool, size: int) -> bytes:
    from PIL import Image, ImageDraw

    noise = np.random.default_rng(rng.randrange(2**32)).integers(200, 256, (size, size, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB")
    side = int(size * (0.6 if large else 0.3))
    x, y = rng.randint(0, size - side), rng.randint(0, size - side)
    ImageDraw.Draw(image).rectangle([x, y, x + side - 1, y + side - 1], fill=COLOURS[colour])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_split(n: int, seed: int, size: int, mixed: bool) -> tuple[list[Item], np.ndarray]:
    """Items and their full-information labels (n, 3); `mixed` drops modalities as described."""
    rng = random.Random(seed)
    items, full = [], []
    for _ in range(n):
        colour, large = rng.choice(list(COLOURS)), rng.random() < 0.5
        alarm, water = rng.random() < 0.5, rng.random() < 0.5
        words = [rng.choice(ALARM if alarm else CALM), rng.choice(WATER if water else DRY)]
        words += rng.sample(FILLERS, 3)
        rng.shuffle(words)
        truth = [colour in ("red", "yellow"), alarm, water and large]
        full.append(truth)
        kind = rng.random() if mixed else 0.0
        has_image, has_text = kind < 0.85, kind < 0.70 or kind >= 0.85
        observed = [truth[0] and has_image, truth[1] and has_text, truth[2] and has_image and has_text]
        items.append(Item(
            text=" ".join(words) if has_text else "",
            image=_image(rng, colour, large, size) if has_image else None,
            labels=[name for name, on in zip(LABELS, observed, strict=True) if on],
        ))
    return items, np.array(full, dtype=np.int8)


def run(clip: str | None = None, n_train: int = 600, epochs: int = 15, seed: int = 13) -> list[str]:
    """Train on the generated set, score each label with each input variant."""
    from sklearn.metrics import f1_score, roc_auc_score

    from models_zoo.backends.clip_fusion import ClipFusionBackend

    scratch = tempfile.TemporaryDirectory(prefix="fusion-bench-")
    if clip is None:
        from tests.models_zoo.tiny_clip import build_tiny_clip

        clip_dir, size = str(build_tiny_clip(Path(scratch.name) / "clip", sentences(), hidden=64,
                                             projection_dim=64)), 32
        config: dict[str, Any] = {"clip": clip_dir, "fusion_dim": 128, "lr_encoder": 1e-3,
                                  "lr_head": 2e-3, "epochs": epochs, "patience": 4, "batch_size": 32}
        which = "tiny random CLIP (64-dim towers, trained end to end, encoder lr 1e-3)"
    else:
        config, size, which = {"clip": clip, "epochs": epochs, "patience": 3}, 224, f"CLIP {clip}"
    config["seed"] = seed
    train, _ = make_split(n_train, seed, size, mixed=True)
    validation, _ = make_split(n_train // 3, seed + 1, size, mixed=True)
    test, y_full = make_split(n_train // 2, seed + 2, size, mixed=False)

    backend = ClipFusionBackend(LABELS, "multimodal-multilabel", config)
    t0 = time.perf_counter()
    report = backend.fit(train, validation)
    setup = (f"setup: {which}; train {len(train)} (70% image+text, 15% text only, 15% image only), "
             f"validation {len(validation)}, test {len(test)}; best epoch {report.best_epoch} of "
             f"{len(report.metrics['history'])}, fit {time.perf_counter() - t0:.0f}s")
    lines = [setup]
    variants = {
        "image+text": test,
        "text only": [Item(text=i.text) for i in test],
        "image only": [Item(text="", image=i.image) for i in test],
    }
    cut = np.array([backend.thresholds[name] for name in LABELS])
    for variant, items in variants.items():
        scores = backend.predict_scores(items)
        for j, name in enumerate(LABELS):
            auc = roc_auc_score(y_full[:, j], scores[:, j])
            f1 = f1_score(y_full[:, j], scores[:, j] >= cut[j], zero_division=0)
            lines.append(f"{name:<12} ({['image', 'text', 'image AND text'][j]} decides) "
                         f"input {variant:<10}: ROC-AUC {auc:.3f} F1 {f1:.3f}")
    scratch.cleanup()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=None, help="CLIP checkpoint directory (default: tiny random)")
    parser.add_argument("--n-train", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    for line in run(args.clip, args.n_train, args.epochs, args.seed):
        print(line, flush=True)


if __name__ == "__main__":
    main()
