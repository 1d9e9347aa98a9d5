from __future__ import annotations

from datetime import datetime

import pytest

from coordinator.errors import Invalid
from coordinator.people.columns import PEOPLE_COLUMNS, RESIDENT_COLUMNS, map_headers, row_values
from coordinator.people.tabular import read_table
from coordinator.people.vocabulary import Term, TermKind, Vocabulary
from tests.sheets import csv_bytes, inline_row, sheet_xml, xlsx, xlsx_with


def test_headers_match_with_noise_and_either_language() -> None:
    positions = map_headers([" 姓名* ", "手机号（必填）", "备注", "Skills", "语种"], PEOPLE_COLUMNS)
    assert positions == {"name": 0, "phone": 1, "skills": 3, "languages": 4}


def test_first_matching_header_wins() -> None:
    assert map_headers(["姓名", "手机", "电话"], PEOPLE_COLUMNS)["phone"] == 1


def test_missing_required_column_names_it() -> None:
    with pytest.raises(Invalid) as caught:
        map_headers(["姓名", "出生日期"], RESIDENT_COLUMNS)
    assert (caught.value.code, caught.value.field) == ("missing_column", "categories")
    assert "类别" in caught.value.message


def test_cells_become_request_fields() -> None:
    vocabulary = Vocabulary.build([(TermKind.skill, Term("bamboo_weaving", "竹编", "Bamboo weaving", False))])
    headers = ["姓名", "手机号", "党员", "技能", "语言", "邮箱"]
    cells = ["  杨英 ", 13812341234.0, "是", "急救；竹编/Photography,杂耍", "苗语", ""]
    values = row_values(cells, map_headers(headers, PEOPLE_COLUMNS), PEOPLE_COLUMNS, vocabulary)
    assert values == {
        "name": "杨英",
        "phone": "13812341234",
        "is_party_member": True,
        # Unknown tokens stay as written, for the rules to report.
        "skills": ["first_aid", "bamboo_weaving", "photography", "杂耍"],
        "languages": ["miao"],
    }


@pytest.mark.parametrize(
    ("cell", "birthday"),
    [
        ("1948年8月15日", "1948-8-15"),
        ("1948/8/15", "1948-8-15"),
        ("1948.08.15", "1948-08-15"),
        ("8月15日", "8-15"),
        (datetime(1948, 8, 15), "1948-08-15"),
    ],
)
def test_birthday_cells_are_normalized(cell: object, birthday: str) -> None:
    positions = map_headers(["姓名", "类别", "出生日期", "性别"], RESIDENT_COLUMNS)
    values = row_values(["吴", "低保", cell, "女"], positions, RESIDENT_COLUMNS, Vocabulary.build())
    assert values["birthday"] == birthday
    assert values["gender"] == "female"


def test_xlsx_and_csv_read_alike_skipping_blank_rows() -> None:
    rows = [("张三", "13812341234"), (None, None), ("李四", "13900001111")]
    for content in (xlsx(("姓名", "手机"), *rows), csv_bytes(("姓名", "手机"), *rows, encoding="gb18030")):
        table = read_table(content, max_rows=10)
        assert table.headers == ["姓名", "手机"]
        assert [(n, [str(c) for c in cells]) for n, cells in table.rows] == [
            (2, ["张三", "13812341234"]),
            (4, ["李四", "13900001111"]),
        ]


def test_semicolon_separated_csv_is_understood() -> None:
    table = read_table("姓名;手机\n张三;13812341234\n".encode(), max_rows=10)
    assert table.rows == [(2, ["张三", "13812341234"])]


def test_reading_stops_past_the_row_limit() -> None:
    with pytest.raises(Invalid) as caught:
        read_table(csv_bytes(("姓名",), *((f"人{i}",) for i in range(3))), max_rows=2)
    assert caught.value.code == "too_many_rows"


def _refusal(content: bytes, max_rows: int = 20_000) -> str:
    with pytest.raises(Invalid) as caught:
        read_table(content, max_rows=max_rows)
    assert caught.value.status_code == 422
    assert caught.value.message.startswith("文件超出导入上限")
    return caught.value.code


SHEET = "xl/worksheets/sheet1.xml"
HEADER = inline_row(1, ("A", "姓名"), ("B", "手机"))


def test_blank_rows_count_against_the_limit() -> None:
    blank_lines = "姓名,手机\n" + "\n" * 10 + "张三,13812341234\n"
    assert _refusal(blank_lines.encode(), max_rows=5) == "too_many_rows"
    blank_rows = "".join(f'<row r="{n}"/>' for n in range(2, 12))
    assert _refusal(xlsx_with({SHEET: sheet_xml(HEADER + blank_rows)}), max_rows=5) == "too_many_rows"


def test_a_far_row_or_a_huge_dimension_is_refused_without_reading_the_rows_between() -> None:
    """An 87 KB file claiming ten million rows once took the server 41 seconds."""
    far = inline_row(10_000_000, ("A", "x"))
    content = xlsx_with({SHEET: sheet_xml(HEADER + far, dimension="A1:XFD10000000")})
    assert _refusal(content) == "too_many_rows"


def test_zip_bombs_and_shared_string_floods_are_refused_before_parsing() -> None:
    padded = sheet_xml(HEADER + " " * (40 * 1024 * 1024))
    assert _refusal(xlsx_with({SHEET: padded})) == "unpacked_too_large"
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    strings += b"<si><t>ab</t></si>" * 400_000 + b"</sst>"
    assert _refusal(xlsx_with({"xl/sharedStrings.xml": strings})) == "too_many_strings"
    styles = b'<?xml version="1.0"?><styleSheet>' + b"<xf/>" * 1_000_000 + b"</styleSheet>"
    assert _refusal(xlsx_with({"xl/styles.xml": styles})) == "part_too_large"


def test_only_the_first_columns_are_read_and_long_texts_are_refused_naming_the_cell() -> None:
    wide = inline_row(2, ("A", "张三"), ("B", "13812341234"), ("XFD", "x"))
    table = read_table(xlsx_with({SHEET: sheet_xml(HEADER + wide, dimension="A1:XFD2")}), max_rows=10)
    assert table.rows == [(2, ["张三", "13812341234"])]
    wide_csv = csv_bytes(("姓名", "手机", *[""] * 100, "备注"), ("张三", "13812341234", *[""] * 100, "x"))
    assert read_table(wide_csv, max_rows=10).headers == ["姓名", "手机"]
    long_text = csv_bytes(("姓名", "备注"), ("张三", "长" * 5000))
    with pytest.raises(Invalid) as caught:
        read_table(long_text, max_rows=10)
    assert (caught.value.code, "第 2 行第 2 列" in caught.value.message) == ("cell_too_long", True)
