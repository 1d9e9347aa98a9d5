"""Line breaking of the certificate's Chinese paragraphs (``coordinator.certificates.lines``)."""

from __future__ import annotations

from coordinator.certificates.lines import Keep, Piece, break_lines


def width(text: str) -> float:
    """One unit per character: wide enough to reason about by hand."""
    return float(len(text))


def test_a_kept_name_is_never_split_nor_left_apart_from_its_sentence() -> None:
    pieces: list[Piece] = [
        Keep("兹证明欧阳小明"),
        "（居民身份证：",
        Keep("**************1234"),
        "）于2026年参加志愿服务。",
    ]
    lines = break_lines(pieces, 10, width)
    assert lines[0].startswith("兹证明欧阳小明")
    assert "".join(lines) == "兹证明欧阳小明（居民身份证：**************1234）于2026年参加志愿服务。"
    assert "**************1234）" in lines[2]  # the long kept piece took a line of its own, with its ）


def test_no_line_starts_with_closing_punctuation_or_ends_with_opening() -> None:
    lines = break_lines(["一二三四五，六七（八九）十。"], 5, width)
    assert all(line[0] not in "，。）" for line in lines)
    assert all(line[-1] != "（" for line in lines)
    assert "".join(lines) == "一二三四五，六七（八九）十。"


def test_numbers_and_latin_words_stay_whole() -> None:
    lines = break_lines(["累计时长4.67小时，编号ZS-2026-7KQ4M2PX。"], 8, width)
    assert any("4.67" in line for line in lines)
    assert any("ZS-2026-7KQ4M2PX" in line for line in lines)


def test_spaces_are_not_where_lines_break_first() -> None:
    # fpdf2 would break at the space and stretch the first line; here lines fill up to the width.
    lines = break_lines(["兹证明 ", Keep("杨秀英"), " 同志在营盘坡社区参加活动"], 9, width)
    assert lines[0] == "兹证明 杨秀英 同"
