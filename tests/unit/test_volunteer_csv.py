from __future__ import annotations

import io

import pytest

from bot.domain.people import contact_phone, normalise_phone
from bot.domain.volunteer_csv import (
    HEADER,
    RowError,
    VolunteerRecord,
    parse_volunteer_csv,
    write_volunteer_csv,
)

LANGUAGES = ("lv", "en")
ORGANISATIONS = ("LAPAS", "LSK", "SK-Valmiera", "-org")  # the coalition's organisations' codes


def parse(data: str | bytes) -> tuple[list[VolunteerRecord], list[RowError]]:
    return parse_volunteer_csv(data, languages=LANGUAGES, organisations=ORGANISATIONS)


HEAD = "telegram_id,name,language,skills,municipality,country,city,phone,organisation"


def parse_ok(text: str | bytes) -> list[VolunteerRecord]:
    records, errors = parse(text)
    assert errors == []
    return records


def one_error(row: str) -> RowError:
    records, errors = parse(HEAD + "\n" + row + "\n")
    assert records == []
    assert len(errors) == 1
    assert errors[0].line == 2
    return errors[0]


def test_header_is_the_promised_one() -> None:
    assert ",".join(HEADER) == HEAD


def test_minimal_latvian_row_uses_defaults() -> None:
    [record] = parse_ok(HEAD + "\n123,Anna Bērziņa,,,Cēsis,,,,\n")
    assert record == VolunteerRecord(
        telegram_id=123,
        name="Anna Bērziņa",
        language="lv",
        skills=[],
        municipality="0026000",
        country="LV",
        city=None,
        phone=None,
        organisations=[],
        timezone="Europe/Riga",
    )


def test_full_rows() -> None:
    text = (
        HEAD + "\n"
        '1,Anna,lv,"first_aid;driver",0001000,LV,Rīga,+371 2000 0000,lsk\n'
        "2,John,EN,translation;legal,,gb,London,+44 (0)20 7946 0958,\n"
        "3,Klaus,en,it_comms,,DE,Berlin,0049 30 1234567,\n"
        "4,Mary,en,fundraising,,US,Chicago,+1 (312) 555-0100,\n"
    )
    anna, john, klaus, mary = parse_ok(text)
    assert anna.skills == ["first_aid", "driver"]
    assert anna.municipality == "0001000"
    assert anna.city == "Rīga"
    assert anna.phone == "+37120000000"
    assert anna.organisations == ["LSK"]  # as the organisation spells its code
    assert (john.language, john.country, john.municipality) == ("en", "GB", None)
    assert john.phone == "+442079460958"
    assert john.timezone == "Europe/London"
    assert klaus.phone == "+49301234567"
    assert klaus.timezone == "Europe/Berlin"
    assert mary.phone == "+13125550100"
    assert mary.timezone == "UTC"  # several zones: the volunteer picks in the bot


@pytest.mark.parametrize(
    ("text", "atvk"),
    [
        ("0026000", "0026000"),
        ("LV0026000", "0026000"),
        ("26000", "0026000"),  # Excel dropped the leading zeros
        ("Cēsu novads", "0026000"),
        ("cesis", "0026000"),
        ("0038000", "0038001"),
        ("0055000", "0038001"),
        ("Varakļāni", "0038001"),
        ("Rezekne", "0006000"),
        ("Rēzeknes novads", "0043000"),
        ("Ikšķile", "0040000"),
    ],
)
def test_municipality_codes_and_names(text: str, atvk: str) -> None:
    [record] = parse_ok(f"{HEAD}\n5,Ieva,lv,,{text},LV,,,\n")
    assert record.municipality == atvk


def test_bom_semicolon_crlf_file_from_latvian_excel() -> None:
    # Semicolons separate fields, so several skills are quoted or use ','.
    text = (
        HEAD.replace(",", ";") + "\r\n"
        '1;Anna;lv;"first_aid;driver";Valmiera;;;2000 0000;"LAPAS;sk-valmiera"\r\n'
        "2;Jānis;;first_aid,care;Jūrmala;LV;Jūrmala;;LSK,lapas,LSK\r\n"
        "\r\n"
    )
    data = b"\xef\xbb\xbf" + text.encode("utf-8")
    anna, janis = parse_ok(data)
    assert anna.skills == ["first_aid", "driver"]
    assert anna.municipality == "0054000"
    assert anna.phone == "+37120000000"
    assert anna.organisations == ["LAPAS", "SK-Valmiera"]
    assert janis.organisations == ["LSK", "LAPAS"]  # "," separates codes too; each once
    assert janis.skills == ["first_aid", "care"]
    assert janis.municipality == "0004000"


def test_excel_sep_directive_and_trailing_separators() -> None:
    text = "sep=;\r\n" + HEAD.replace(",", ";") + ";;\r\n1;Anna;;;Ogre;;;;;;\r\n2;Bad;;;Nowhere;;;;;;\r\n"
    records, errors = parse(text)
    assert [r.municipality for r in records] == ["0040000"]
    assert errors == [RowError(4, "municipality 'Nowhere' not found")]


def test_columns_in_another_order_and_case() -> None:
    text = (
        "Name,TELEGRAM_ID,country,city,municipality,skills,language,phone,organisation\n"
        "Anna,7,NO,Oslo,,translation,en,,\n"
    )
    [record] = parse_ok(text)
    assert (record.telegram_id, record.name, record.country, record.city) == (7, "Anna", "NO", "Oslo")
    assert record.timezone == "Europe/Oslo"


def test_header_problems_are_reported_on_line_1() -> None:
    records, errors = parse("telegram_id,name,language,skills,municipality,country,city,mobile\n1,A,,,Rīga,,,\n")
    assert records == []
    assert len(errors) == 1
    assert errors[0].line == 1
    assert "missing column(s): phone, organisation" in errors[0].message
    assert "unknown column(s): 'mobile'" in errors[0].message

    _, errors = parse(HEAD + ",name\n")
    assert errors[0].line == 1 and "duplicate column(s): name" in errors[0].message


def test_empty_file_and_header_only() -> None:
    for empty in ("", b"", "\n\n", b"\xef\xbb\xbf"):
        records, errors = parse(empty)
        assert records == []
        assert len(errors) == 1 and errors[0].line == 1 and "empty" in errors[0].message
    assert parse(HEAD + "\n") == ([], [])
    assert parse(HEAD) == ([], [])


def test_not_utf8_reports_the_line() -> None:
    data = (HEAD + "\n1,Anna,,,Rīga,,,,\n2,").encode() + "Jānis".encode("cp1257") + b",,,R\xe2ga,,,,\n"
    records, errors = parse(data)
    assert records == []
    assert len(errors) == 1
    assert errors[0].line == 3
    assert "not UTF-8" in errors[0].message


def test_every_bad_row_is_reported_with_its_physical_line() -> None:
    text = (
        HEAD + "\n"  # line 1
        '1,"Anna\nBērziņa",lv,first_aid,Rīga,,,,"LAPAS;\nLSK"\n'  # lines 2-4
        "2,Bob,en,firstaid,Springfield,,,abc,\n"  # line 5
        "\n"  # line 6 (blank)
        "1,Dup,lv,,Rīga,,,,\n"  # line 7
        "x,,de,,,XX,,,\n"  # line 8
        "3,Eve,en,,Rīga,DE,,,\n"  # line 9
        "4,Ok,en,,,SE,Stockholm,,\n"  # line 10
    )
    records, errors = parse(text)
    assert [r.telegram_id for r in records] == [1, 4]
    assert records[0].name == "Anna Bērziņa"
    assert records[0].organisations == ["LAPAS", "LSK"]
    assert [e.line for e in errors] == [5, 7, 8, 9]
    assert errors[0].message == (
        "unknown skill 'firstaid' (did you mean first_aid?); "
        "municipality 'Springfield' not found; "
        "phone 'abc' may contain only digits, spaces, +, -, ( and )"
    )
    assert errors[1].message == "duplicate telegram_id 1 (also on line 2)"
    assert errors[2].message == (
        "telegram_id 'x' is not a positive integer; name is required; "
        "language 'de' must be one of lv, en; "
        "country 'XX' is not an ISO 3166-1 alpha-2 code"
    )
    assert errors[3].message == (
        "municipality must be empty for rows outside Latvia (country DE, municipality 'Rīga'); "
        "city is required for rows outside Latvia"
    )


def test_duplicate_ids() -> None:
    text = HEAD + "\n10,A,,,Rīga,,,,\n11,B,,,Rīga,,,,\n10,C,,,Rīga,,,,\n10,D,,,Rīga,,,,\n"
    records, errors = parse(text)
    assert [r.name for r in records] == ["A", "B"]
    assert errors == [
        RowError(4, "duplicate telegram_id 10 (also on line 2)"),
        RowError(5, "duplicate telegram_id 10 (also on line 2)"),
    ]


def test_wrong_number_of_fields_and_unclosed_quote() -> None:
    text = HEAD + '\n1,A,,,Rīga,,,\n2,B,,,Rīga,,,,,extra\n3,"C,,,Rīga,,,,\n4,D,,,Rīga,,,,\n'
    records, errors = parse(text)
    assert records == []
    assert [e.line for e in errors] == [2, 3, 4]
    assert errors[0].message == "expected 9 fields separated by ',', found 8"
    assert errors[1].message == "expected 9 fields separated by ',', found 10"
    assert errors[2].message.endswith("(check for an unclosed quote)")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("0,A,,,Rīga,,,,", "telegram_id '0' is not a positive integer"),
        ("-5,A,,,Rīga,,,,", "telegram_id '-5' is not a positive integer"),
        ("1.5,A,,,Rīga,,,,", "telegram_id '1.5' is not a positive integer"),
        (",A,,,Rīga,,,,", "telegram_id is required"),
        ("1,,,,Rīga,,,,", "name is required"),
        ("1," + "x" * 65 + ",,,Rīga,,,,", "name is longer than 64 characters (65)"),
        ("1,A,,,,,,,", "municipality is required for rows in Latvia (country LV)"),
        (
            "1,A,,,Priekule,,,,",
            "municipality 'Priekule' not recognised (did you mean Cēsu novads or Dienvidkurzemes novads?)",
        ),
        ("1,A,,,Rga,,,,", "municipality 'Rga' not recognised (did you mean Rīga?)"),
        ("1,A,,,0050000,,,,", "municipality '0050000' not found"),
        ("1,A,,,,Vācija,Berlin,,", "country 'Vācija' is not an ISO 3166-1 alpha-2 code (did you mean DE?)"),
        ("1,A,,,,GBR,London,,", "country 'GBR' is not an ISO 3166-1 alpha-2 code (did you mean GB?)"),
        ("1,A,,,,NO,,,", "city is required for rows outside Latvia"),
        ("1,A,,,,NO,Oslo,12345678,", "phone '12345678' must start with + and the country code"),
        ("1,A,,,Rīga,,,+371 123,", "phone '+371 123' must have 7 to 15 digits, found 6"),
        ("1,A,,,Rīga,,,+1234567890123456,", "phone '+1234567890123456' must have 7 to 15 digits, found 16"),
        ("1,A,,,Rīga,,,2000 000,", "phone '2000 000' must start with + and the country code"),
        ("1,A,,,Rīga,,,,," + "o" * 101, "expected 9 fields separated by ',', found 10"),
        ("1,A,,,Rīga,,,,LAPAS;Sarkanais Krusts", "unknown organisation 'Sarkanais'; unknown organisation 'Krusts'"),
        ("1,A,,,Rīga,,,,lapass", "unknown organisation 'lapass' (did you mean LAPAS?)"),
    ],
)
def test_single_problems(row: str, message: str) -> None:
    assert one_error(row).message == message


def test_uk_is_accepted_for_gb() -> None:
    [record] = parse_ok(HEAD + "\n1,A,en,,,uk,Leeds,,\n")
    assert record.country == "GB"


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+371 2000 0000", "LV", "+37120000000"),
        ("20000000", "LV", "+37120000000"),
        ("37120000000", "LV", "+37120000000"),  # Excel ate the +
        ("00371-2000-0000", "LV", "+37120000000"),
        ("+44 (0)20 7946 0958", "GB", "+442079460958"),
        ("+1 (312) 555-0100", "US", "+13125550100"),
        ("0047 912 34 567", "NO", "+4791234567"),
    ],
)
def test_normalise_phone(raw: str, country: str, expected: str) -> None:
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [("07700 900123", "GB"), ("+371 2000 000a", "LV"), ("2000+0000", "LV"), ("+12", "US")],
)
def test_normalise_phone_rejects(raw: str, country: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw, country)


def test_a_phone_cell_escaped_against_formulas_is_read_as_the_number() -> None:
    (record,) = parse_ok(f"{HEAD}\n1,A,,,Rīga,,,'+37120000000,\n")
    assert record.phone == "+37120000000"


@pytest.mark.parametrize(
    ("cell", "country", "shared"),
    [
        ("+371 2000 0000", "LV", "37120000000"),
        ("20000000", "LV", "37120000000"),
        ("+44 20 7946 0958", "GB", "442079460958"),
    ],
)
def test_the_import_and_a_contact_shared_in_the_chat_store_the_same_number(
    cell: str, country: str, shared: str
) -> None:
    """A list cell and the same number shared from Telegram (which sends it without "+")."""
    city = "" if country == "LV" else "London"
    municipality = "Rīga" if country == "LV" else ""
    (record,) = parse_ok(f"{HEAD}\n1,A,,,{municipality},{country},{city},{cell},\n")
    assert record.phone == contact_phone(shared) == contact_phone("+" + shared)


def test_a_city_may_be_as_long_in_the_list_as_in_the_chat() -> None:
    from bot.domain.people import CITY_MAX, clean_city

    longest, too_long = "c" * CITY_MAX, "c" * (CITY_MAX + 1)
    assert parse_ok(f"{HEAD}\n1,A,,,,NO,{longest},,\n")[0].city == longest == clean_city(longest)
    records, errors = parse(f"{HEAD}\n1,A,,,,NO,{too_long},,\n")
    assert records == [] and clean_city(too_long) is None
    assert errors[0].message == f"city is longer than {CITY_MAX} characters ({CITY_MAX + 1})"


def make_records() -> list[VolunteerRecord]:
    return [
        VolunteerRecord(
            1,
            "Anna Bērziņa",
            "lv",
            ["first_aid", "driver"],
            "0026000",
            "LV",
            "Cēsis",
            "+37120000000",
            ["LAPAS", "LSK"],
            "Europe/Riga",
        ),
        VolunteerRecord(
            2, "John Smith", "en", ["translation"], None, "GB", "London", "+442079460958", [], "Europe/London"
        ),
        VolunteerRecord(3, '=HYPERLINK("http://x")', "en", [], None, "US", "-Springfield", None, ["-org"], "UTC"),
        VolunteerRecord(4, "'quoted", "lv", [], "0038001", "LV", None, None, ["SK-Valmiera"], "Europe/Riga"),
    ]


def test_write_format() -> None:
    out = io.StringIO()
    write_volunteer_csv(make_records()[:2], out)
    # A phone starts with +: a spreadsheet would take it for a formula (and drop the +).
    assert out.getvalue() == (
        HEAD + "\n"
        "1,Anna Bērziņa,lv,first_aid;driver,0026000,LV,Cēsis,'+37120000000,LAPAS;LSK\n"
        "2,John Smith,en,translation,,GB,London,'+442079460958,\n"
    )


def test_write_escapes_formulas() -> None:
    out = io.StringIO()
    write_volunteer_csv(make_records()[2:3], out)
    row = out.getvalue().splitlines()[1]
    assert row == '3,"\'=HYPERLINK(""http://x"")",en,,,US,\'-Springfield,,\'-org'


def test_round_trip() -> None:
    records = make_records()
    out = io.StringIO()
    write_volunteer_csv(records, out)
    parsed, errors = parse(out.getvalue())
    assert errors == []
    assert parsed == records
    # ...also as bytes with CRLF line endings, as a spreadsheet would save it.
    crlf = out.getvalue().replace("\n", "\r\n").encode("utf-8-sig")
    assert parse(crlf) == (records, [])


def test_row_error_str() -> None:
    assert str(RowError(4, "name is required")) == "line 4: name is required"
