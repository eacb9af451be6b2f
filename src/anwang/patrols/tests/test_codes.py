"""Signed checkpoint codes: format, round trip and typing mistakes (no database)."""

import pytest

from anwang.patrols import codes


def test_round_trip_and_length():
    for checkpoint_id, length in ((1, 13), (127, 13), (128, 14), (16383, 14), (2_000_000, 16)):
        code = codes.encode(community_id=7, checkpoint_id=checkpoint_id, version=1, salt="s")
        assert len(codes.normalise(code)) == length
        assert all(len(group) <= 4 for group in code.split("-"))
        decoded = codes.decode(code)
        assert decoded.checkpoint_id == checkpoint_id
        assert decoded.version == 1
        assert codes.matches(decoded, community_id=7, salt="s")
        assert not codes.matches(decoded, community_id=8, salt="s")
        assert not codes.matches(decoded, community_id=7, salt="other")


def test_typed_forms_are_accepted():
    code = codes.encode(community_id=1, checkpoint_id=42, version=3, salt="s")
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert codes.decode(typed).checkpoint_id == 42
    assert codes.decode(typed).version == 3


def test_every_single_typing_mistake_is_caught_by_the_check_character():
    clean = codes.normalise(codes.encode(community_id=1, checkpoint_id=42, version=1, salt="s"))
    for index, original in enumerate(clean):
        for char in codes.ALPHABET:
            if char == original:
                continue
            with pytest.raises(codes.MalformedCodeError):
                codes.decode(clean[:index] + char + clean[index + 1 :])


@pytest.mark.parametrize("text", ["", "hello", "UUUU-UUUU-UUUU-U", "0000-0000-0000-0", "!" * 13])
def test_garbage_is_malformed(text):
    with pytest.raises(codes.MalformedCodeError):
        codes.decode(text)
