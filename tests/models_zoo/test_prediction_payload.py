"""Parsing prediction request bodies (pure function, no database, no model)."""

from __future__ import annotations

import base64
import io

import pytest

from models_zoo.services.prediction import (
    PredictionInputError,
    TooManyItems,
    parse_predict_payload,
)


def png_base64() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (3, 3), (0, 120, 255)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_texts_become_inputs_without_images():
    assert parse_predict_payload({"texts": ["a", "b"]}, "multilabel") == [("a", None), ("b", None)]


def test_an_image_may_come_as_a_data_uri():
    [(text, image)] = parse_predict_payload(
        {"items": [{"text": "t", "image": "data:image/png;base64," + png_base64()}]}, "multilabel"
    )
    assert text == "t" and image is not None and image.startswith(b"\x89PNG")


def test_a_multimodal_project_accepts_an_image_without_text():
    [(text, image)] = parse_predict_payload(
        {"items": [{"image": png_base64()}]}, "multimodal-multilabel"
    )
    assert text == "" and image is not None


def test_a_text_project_needs_text_even_with_an_image():
    with pytest.raises(PredictionInputError) as caught:
        parse_predict_payload({"items": [{"image": png_base64()}]}, "multilabel")
    assert caught.value.errors == [{"item": 0, "field": "text", "message": "text is empty"}]


def test_a_multimodal_item_with_neither_text_nor_image_is_named():
    with pytest.raises(PredictionInputError) as caught:
        parse_predict_payload({"items": [{"text": "ok"}, {"text": " "}]}, "multimodal-multilabel")
    assert caught.value.errors == [
        {"item": 1, "field": "text", "message": "text is empty and there is no image"}
    ]


def test_the_item_limit_is_checked_before_items_are_decoded():
    # Item 0 is broken too, but the size limit is what the client must fix first.
    with pytest.raises(TooManyItems, match="the limit is 3 items per request"):
        parse_predict_payload({"items": [{"image": "%%"}] * 4}, "multilabel", max_items=3)


def test_every_bad_item_is_reported_at_once():
    with pytest.raises(PredictionInputError) as caught:
        parse_predict_payload(
            {"items": [{"text": ""}, "not an object", {"text": "fine"}, {"text": "x", "image": 5}]},
            "multilabel",
        )
    assert [(e["item"], e["field"]) for e in caught.value.errors] == [
        (0, "text"),
        (1, "item"),
        (3, "image"),
    ]
    assert "item 3: image: image must be a base64 string" in str(caught.value)
