"""A tiny random CLIP saved to a directory, for tests and benchmarks (no hub, no download).

CLIPConfig with 1-layer, 32-dim text and vision towers (32x32 images, 8x8 patches), a BPE
tokenizer trained on the fly with `tokenizers`, and a CLIPImageProcessor. Everything is written
with `save_pretrained` and loaded back by the backend through `AutoModel` / `AutoTokenizer` /
`AutoImageProcessor`, the same code path a real `openai/clip-vit-base-patch32` directory takes.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

DEFAULT_SENTENCES = [
    "a photo of a red square", "a blue square on white", "flood in the city tonight",
    "people helping after the storm", "nothing to see here", "green field and sky",
    "hate speech is not welcome", "the fire spread overnight", "stay safe everyone",
]


def build_tiny_clip(directory: Path, sentences: Iterable[str] = DEFAULT_SENTENCES,
                    hidden: int = 32, projection_dim: int = 32, image_size: int = 32,
                    layers: int = 1, heads: int = 2, patch_size: int = 8,
                    vision_hidden: int | None = None) -> Path:
    """Write a random CLIP model, tokenizer and image processor to `directory`.

    The defaults are tiny; `hidden=512, vision_hidden=768, layers=12, heads=8, image_size=224,
    patch_size=32, projection_dim=512` gives the ViT-B/32 shape (random weights) for timing."""
    vision_hidden = vision_hidden or hidden
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPTextConfig,
        CLIPVisionConfig,
        PreTrainedTokenizerFast,
    )

    specials = ["<|pad|>", "<|unk|>", "<|startoftext|>", "<|endoftext|>"]
    tok = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.BPEDecoder()
    tok.train_from_iterator(list(sentences) * 2, trainers.BpeTrainer(vocab_size=200, special_tokens=specials))
    bos, eos = tok.token_to_id("<|startoftext|>"), tok.token_to_id("<|endoftext|>")
    # CLIP pools the text at the end-of-text token, so every sequence must end with one.
    tok.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", bos), ("<|endoftext|>", eos)],
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<|pad|>", unk_token="<|unk|>",
        bos_token="<|startoftext|>", eos_token="<|endoftext|>", model_max_length=77,
    )
    text = CLIPTextConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=4 * hidden,
        num_hidden_layers=layers, num_attention_heads=heads, max_position_embeddings=77,
        bos_token_id=bos, eos_token_id=eos, pad_token_id=tok.token_to_id("<|pad|>"),
        projection_dim=projection_dim,
    )
    vision = CLIPVisionConfig(
        hidden_size=vision_hidden, intermediate_size=4 * vision_hidden, num_hidden_layers=layers,
        num_attention_heads=heads, image_size=image_size, patch_size=patch_size,
        projection_dim=projection_dim,
    )
    config = CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                        projection_dim=projection_dim)
    processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size},
    )
    directory.mkdir(parents=True, exist_ok=True)
    CLIPModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def square_png(rgb: tuple[int, int, int], size: int = 32, background: tuple[int, int, int] = (255, 255, 255),
               offset: int = 0) -> bytes:
    """PNG bytes of a coloured square on a plain background (synthetic images for tests)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), background)
    side = size // 2
    x = (size - side) // 2 + offset
    ImageDraw.Draw(image).rectangle([x, x, x + side - 1, x + side - 1], fill=rgb)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
