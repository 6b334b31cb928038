"""Seed 003's mining steps on hand-computed cases (no database)."""
from __future__ import annotations

import numpy as np
import pytest

from annotator.mining.algorithm import (
    BandTooSmall,
    MiningError,
    anchor_similarities,
    anchor_vector,
    band_limits,
    band_mask,
    draw_from_band,
    fit_normal,
    histogram,
    text_key,
)


def test_the_anchor_is_the_unit_mean_of_the_normalised_positives():
    # (3, 4) normalises to (0.6, 0.8); (0, 2) to (0, 1); mean (0.3, 0.9), norm sqrt(0.9).
    anchor = anchor_vector(np.array([[3.0, 4.0], [0.0, 2.0]]))
    expected = np.array([0.3, 0.9]) / np.sqrt(0.9)
    assert np.allclose(anchor, expected, atol=1e-6)


def test_s_an_is_the_cosine_to_the_anchor():
    anchor = anchor_vector(np.array([[1.0, 0.0]]))
    s = anchor_similarities(np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32), anchor)
    assert np.allclose(s, [1.0, 0.0, 0.6])


def test_a_label_without_positives_is_an_error_naming_the_label():
    with pytest.raises(MiningError) as err:
        anchor_vector(np.zeros((0, 4)))
    assert err.value.field == "label"


def test_fit_normal_uses_all_items_when_the_pool_is_smaller_than_p():
    # mean 2.5, population variance ((1.5^2 + 0.5^2) * 2) / 4 = 1.25
    mu, sigma = fit_normal(np.array([1.0, 2.0, 3.0, 4.0]), p=3000, rng=np.random.default_rng(0))
    assert mu == pytest.approx(2.5)
    assert sigma == pytest.approx(np.sqrt(1.25))


def test_fit_normal_samples_p_items_reproducibly_with_the_seed():
    s = np.arange(1000, dtype=np.float64)
    a = fit_normal(s, p=10, rng=np.random.default_rng(7))
    b = fit_normal(s, p=10, rng=np.random.default_rng(7))
    c = fit_normal(s, p=10, rng=np.random.default_rng(8))
    assert a == b and a != c
    picked = np.random.default_rng(7).choice(1000, size=10, replace=False)
    assert a[0] == pytest.approx(picked.mean())


def test_fit_normal_refuses_a_constant_pool():
    with pytest.raises(MiningError) as err:
        fit_normal(np.ones(10), p=5, rng=np.random.default_rng(0))
    assert err.value.field == "p"


# mu = 0.5, sigma = 0.25 (exact in binary): z of these values is
# -2.5, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5
S = np.array([-0.125, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 1.125, 1.25, 1.375])
MU, SIGMA = 0.5, 0.25


@pytest.mark.parametrize(
    ("band", "tails", "expected"),
    [
        (1, "upper", [0.5, 0.625]),
        (2, "upper", [0.75, 0.875]),
        (3, "upper", [1.0, 1.125]),
        (1, "both", [0.375, 0.5, 0.625]),
        (2, "both", [0.125, 0.25, 0.75, 0.875]),
        (3, "both", [-0.125, 1.0, 1.125]),
    ],
)
def test_bands_split_at_whole_sigmas(band, tails, expected):
    mask = band_mask(S, mu=MU, sigma=SIGMA, band=band, tails=tails)
    assert S[mask].tolist() == expected


def test_beyond_three_sigmas_is_in_no_band():
    everything = np.zeros(len(S), dtype=bool)
    for band in (1, 2, 3):
        everything |= band_mask(S, MU, SIGMA, band, "both")
    assert S[~everything].tolist() == [1.25, 1.375]


def test_band_limits_for_drawing():
    assert band_limits(MU, SIGMA, 2) == [(0.75, 1.0)]
    assert band_limits(MU, SIGMA, 3, "both") == [(-0.25, 0.0), (1.0, 1.25)]


@pytest.mark.parametrize(
    ("band", "tails", "field"), [(0, "upper", "band"), (4, "upper", "band"), (1, "lower", "tails")]
)
def test_bad_band_or_tails_names_the_field(band, tails, field):
    with pytest.raises(MiningError) as err:
        band_mask(S, MU, SIGMA, band, tails)
    assert err.value.field == field


def test_histogram_counts_over_the_range():
    h = histogram(np.array([0.0, 0.1, 0.2, 0.9, 1.0]), bins=2)
    assert h["edges"] == [0.0, 0.5, 1.0]
    assert h["counts"] == [3, 2]


def _vectors():
    # Rows 0-5 unit vectors at angles 0, 10, 20, ... 50 degrees; row 0 is also "the positive".
    angles = np.deg2rad(np.arange(0, 60, 10))
    return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


def test_the_draw_is_seeded_and_follows_the_permutation():
    v = _vectors()
    band = np.array([1, 2, 3, 4, 5])
    draw = draw_from_band(band, 3, np.random.default_rng(3), v, np.zeros((0, 2)))
    expected = np.random.default_rng(3).permutation(band)[:3]
    assert draw.picked.tolist() == expected.tolist()
    again = draw_from_band(band, 3, np.random.default_rng(3), v, np.zeros((0, 2)))
    assert again.picked.tolist() == draw.picked.tolist()


def test_near_duplicates_of_a_positive_are_never_drawn():
    v = _vectors()
    # cos(10 deg) = 0.985 > 0.95, cos(20 deg) = 0.940 < 0.95: only row 1 is a near-duplicate.
    draw = draw_from_band(np.array([1, 2, 3, 4, 5]), 4, np.random.default_rng(0), v, v[[0]])
    assert sorted(draw.picked.tolist()) == [2, 3, 4, 5]
    assert draw.near_duplicates == 1
    # A lower threshold (0.9) also excludes row 2 (cos 20 deg = 0.940).
    with pytest.raises(BandTooSmall) as err:
        draw_from_band(np.array([1, 2, 3, 4, 5]), 4, np.random.default_rng(0), v, v[[0]],
                       dedupe_threshold=0.9, band=2)
    assert err.value.holds == 3 and "band 2 holds 3" in err.value.message


def test_the_same_text_is_never_drawn_twice_nor_a_positives_text():
    v = _vectors()
    texts = {1: "Flood  warning", 2: "flood warning", 3: "other", 4: "the positive", 5: "x"}
    draw = draw_from_band(
        np.array([1, 2, 3, 4, 5]), 3, np.random.default_rng(0), v, np.zeros((0, 2)),
        keys=lambda idx: [text_key(texts[int(i)]) for i in idx],
        positive_keys={text_key("The positive")},
    )
    picked = draw.picked.tolist()
    assert 4 not in picked
    assert not {1, 2} <= set(picked)
    with pytest.raises(BandTooSmall) as err:
        draw_from_band(
            np.array([1, 2, 3, 4, 5]), 4, np.random.default_rng(0), v, np.zeros((0, 2)),
            keys=lambda idx: [text_key(texts[int(i)]) for i in idx],
            positive_keys={text_key("The positive")},
        )
    assert err.value.holds == 3


def test_small_batches_give_the_same_draw():
    v = np.random.default_rng(1).normal(size=(200, 8)).astype(np.float32)
    band = np.arange(10, 190)
    a = draw_from_band(band, 20, np.random.default_rng(5), v, v[:3], batch=7)
    b = draw_from_band(band, 20, np.random.default_rng(5), v, v[:3])
    assert a.picked.tolist() == b.picked.tolist()
