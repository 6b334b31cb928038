from __future__ import annotations

from annotator.normalize import content_hash, normalize


def test_it_strips_mentions_urls_and_retweet_marker_like_the_seed_cards():
    raw = "RT @user_1: Flood &amp; fire\nnear us http://t.co/abc"
    assert normalize(raw) == "Flood & fire near us"


def test_it_maps_mentions_and_urls_to_placeholders_in_the_bertweet_variant():
    raw = "@bob look https://t.co/x &lt;3"
    assert normalize(raw, "placeholders") == "@USER look HTTPURL <3"


def test_content_hash_ignores_case_and_spacing():
    assert content_hash("Flood  near US") == content_hash("flood near us")
    assert content_hash("flood") != content_hash("fire")
