"""Spreadsheet parsing without a database: cells, HTML, shapes, mapping, Shopify rows, row/column errors."""

from __future__ import annotations

import io
import random
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from revoque.errors import ValidationError
from revoque.services.html_clean import clean_description, html_to_text, looks_like_html, sanitize_html
from revoque.services.import_parsing import (
    TEMPLATE_COLUMNS,
    Shape,
    detect_shape,
    normalise_header,
    parse_bool,
    parse_count,
    parse_price,
    parse_products,
    parse_status,
    parse_weight,
    suggest_mapping,
    to_slug,
)
from revoque.services.sheets import cell_text, column_letter, read_sheet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spreadsheets"


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def parse_csv(*lines: str, **kwargs):
    return parse_products(read_sheet(csv_bytes(*lines), "x.csv"), currency="NGN", **kwargs)


def problems_of(parsed) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.column, p.message) for p in parsed.problems if p.is_error]


# --- prices and other cells ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("$1,299.00", 129_900),
        ("₦ 12,500", 1_250_000),
        ("₦12,500.50", 1_250_050),
        ("12500", 1_250_000),
        ("N12,500", 1_250_000),
        ("12500 NGN", 1_250_000),
        ("NGN 12,500.5", 1_250_050),
        ("12\u00a0500", 1_250_000),
        ("0", 0),
        (".5", 50),
        ("1299.0", 129_900),
    ],
)
def test_prices_written_as_text_become_minor_units(text, minor):
    assert parse_price(text, "NGN") == minor


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-5", "cannot be negative"),
        ("(1,200)", "cannot be negative"),
        ("₦-500", "cannot be negative"),
        ("abc", "is not a price"),
        ("12.345", "more than 2 decimal places"),
        ("1.299,00", "is not a price"),
        ("12 apples", "is not a price"),
        ("", "A price is needed"),
        ("99999999999", "larger than the store can hold"),
    ],
)
def test_bad_prices_are_refused_with_the_reason(text, reason):
    with pytest.raises(ValidationError, match=reason):
        parse_price(text, "NGN")


def test_prices_follow_the_store_currency_exponent():
    assert parse_price("¥1,500", "JPY") == 1500
    with pytest.raises(ValidationError, match="decimal places"):
        parse_price("1500.5", "JPY")


def test_counts_booleans_statuses_and_weights():
    assert [parse_count(t) for t in ("12", "1,200", "12.0", "0")] == [12, 1200, 12, 0]
    for bad in ("ten", "1.5", "-1", "nan", "inf"):
        with pytest.raises(ValidationError):
            parse_count(bad)
    assert [parse_bool(t) for t in ("yes", "TRUE", "1", "No", "false", "")] == [True, True, True, False, False, False]
    with pytest.raises(ValidationError, match="not yes or no"):
        parse_bool("maybe")
    assert [parse_status(t) for t in ("Active", "draft", "Archived", "published", "hidden")] == [
        "active",
        "draft",
        "archived",
        "active",
        "draft",
    ]
    with pytest.raises(ValidationError, match="active, draft or archived"):
        parse_status("sold")
    assert parse_weight("250") == 250
    assert parse_weight("1.2 kg") == 1200
    assert parse_weight("8 oz") == 227
    assert parse_weight("2", default_unit="kg") == 2000
    with pytest.raises(ValidationError, match="unknown weight unit"):
        parse_weight("3 stone")


def test_slugs_fold_accents_and_read_ampersands():
    assert to_slug("Ankara Midi Dress — Ọ̀ṣun") == "ankara-midi-dress-osun"
    assert to_slug("Bags & Shoes") == "bags-and-shoes"
    assert to_slug("Men's Shirts") == "mens-shirts"
    assert to_slug("日本") == ""


def test_cell_text_reads_cells_as_a_person_would():
    assert cell_text(12500) == "12500"
    assert cell_text(12500.0) == "12500"
    assert cell_text(19.99) == "19.99"
    assert cell_text(True) == "TRUE"
    assert cell_text(None) == ""
    assert cell_text(datetime(2026, 5, 1)) == "2026-05-01"
    assert cell_text(date(2026, 5, 1)) == "2026-05-01"
    assert cell_text(float("nan")) == ""
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


# --- HTML ------------------------------------------------------------------------------------------


def test_sanitiser_keeps_the_allow_list_and_drops_scripts_handlers_and_styles():
    html = (
        '<p onclick="steal()" style="color:red">Soft <b>cotton</b><br>for <em>hot</em> days</p>'
        "<script>alert(1)</script><style>p{display:none}</style>"
        '<a href="javascript:alert(1)">bad</a> <a href=" JaVaScRiPt:alert(1)">worse</a>'
        '<a href="https://example.com/a?b=1&c=2" target="_blank">good</a>'
        '<img src=x onerror="alert(1)"><iframe src="https://evil.example"></iframe><!-- note -->'
        "<ul><li>one<li>two</ul><div>unclosed <strong>bold"
    )
    clean = sanitize_html(html)
    assert clean == (
        "<p>Soft <b>cotton</b><br>for <em>hot</em> days</p>"
        "<a>bad</a> <a>worse</a>"
        '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener">good</a>'
        "<ul><li>one<li>two</li></li></ul><div>unclosed <strong>bold</strong></div>"
    )
    for banned in ("script", "style", "onclick", "onerror", "javascript", "iframe", "img", "target", "note"):
        assert banned not in clean.lower()


def test_html_becomes_readable_text():
    html = "<h2>Details</h2><p>Soft&nbsp;cotton &amp; linen.</p><ul><li>Machine wash</li><li>Dry in shade</li></ul>"
    assert html_to_text(html) == "Details\n\nSoft cotton & linen.\n\n• Machine wash\n• Dry in shade"
    assert html_to_text("<p>a<script>var x = '<p>';</script>b</p>") == "ab"


def test_descriptions_are_stored_as_text_and_plain_text_is_kept():
    assert clean_description("<p>Hello <b>there</b></p><script>x()</script>") == "Hello there"
    assert clean_description("Line one\r\nLine two\n\n\n\nLast") == "Line one\nLine two\n\nLast"
    assert clean_description("Size < 10 and > 2") == "Size < 10 and > 2"
    assert not looks_like_html("5 < 6 > 4")
    assert looks_like_html("<br/>") and looks_like_html("a &amp; b")


@pytest.mark.parametrize(
    "html", ["<p", "<<<>>>", "</div></p>", "<a href='x", "&#xffffff;", "<p>" * 500, "\x00<b>\x07</b>"]
)
def test_broken_html_never_raises(html):
    assert isinstance(sanitize_html(html), str)
    assert isinstance(clean_description(html), str)


# --- reading files ---------------------------------------------------------------------------------


def test_xlsx_cells_become_text_rows_with_spreadsheet_row_numbers():
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Products"
    sheet.append(["handle", "title", "price", "stock", "featured", "launched"])
    sheet.append(["tee", "Tee", 12500, 4.0, True, datetime(2026, 1, 2)])
    sheet.append([])
    sheet.append(["cap", "Cap", 1999.5, None, False, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_sheet(buffer.getvalue(), "products.xlsx")
    assert table.headers == ["handle", "title", "price", "stock", "featured", "launched"]
    assert table.rows == [
        (2, ["tee", "Tee", "12500", "4", "TRUE", "2026-01-02"]),
        (4, ["cap", "Cap", "1999.5", "", "FALSE", ""]),
    ]


def test_csv_separators_encodings_and_ragged_rows():
    semicolons = read_sheet(b"handle;price\nt;1.200,00\n", "x.csv")
    assert semicolons.rows == [(2, ["t", "1.200,00"])]
    windows = read_sheet("title,price\nCafé,5\n".encode("cp1252"), "x.csv")
    assert windows.rows == [(2, ["Café", "5"])]
    bom = read_sheet("\ufeffhandle,price\nt,5\n".encode(), "x.csv")
    assert bom.headers == ["handle", "price"]
    ragged = read_sheet(b"handle,price\nt,5,extra\nu\n", "x.csv")
    assert ragged.rows == [(2, ["t", "5"]), (3, ["u", ""])]
    assert ragged.extra_columns == [3]


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", "x.csv", "empty"),
        (b"PK\x03\x04not really a zip", "x.xlsx", "not a readable .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old.xls", "Old Excel"),
        (b"\n\n\n", "x.csv", "no header row"),
        (b"a\x00b,c\n", "x.csv", "not a text .csv"),
    ],
)
def test_unreadable_files_give_a_reason(data, filename, reason):
    with pytest.raises(ValidationError, match=reason):
        read_sheet(data, filename)


def test_random_bytes_never_crash_the_parser():
    rng = random.Random(7)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        try:
            sheet = read_sheet(data, "fuzz.csv")
        except ValidationError:
            continue
        parsed = parse_products(sheet, currency="NGN")
        assert isinstance(parsed.problems, list)


def test_random_cells_in_the_template_never_crash_and_every_problem_names_row_and_column():
    rng = random.Random(11)
    junk = ["", "-1", "abc", "1,2,3", "₦", "<b>", "yes", "Size", "S", "> >", "x" * 300, "0.001", "12", "archived"]
    lines = [",".join(TEMPLATE_COLUMNS)]
    for _ in range(150):
        lines.append(",".join(f'"{rng.choice(junk)}"' for _ in TEMPLATE_COLUMNS))
    parsed = parse_csv(*lines)
    for problem in parsed.problems:
        if problem.row is not None:
            assert 2 <= problem.row <= 151
            assert problem.column in TEMPLATE_COLUMNS
            assert problem.message


# --- shapes and mapping ----------------------------------------------------------------------------


def test_shape_detection():
    assert detect_shape(list(TEMPLATE_COLUMNS)) == Shape.TEMPLATE
    assert detect_shape(["Handle", "Title", "Price", "SKU"]) == Shape.TEMPLATE
    shopify = read_sheet((FIXTURES / "shopify_products.csv").read_bytes(), "s.csv").headers
    assert detect_shape(shopify) == Shape.SHOPIFY
    assert detect_shape(["Product Name", "Retail Price", "Qty"]) == Shape.MAPPED
    assert detect_shape(["handle", "title", "price", "colour", "material", "supplier code"]) == Shape.MAPPED
    assert normalise_header(" Body (HTML) ") == "body html"
    assert normalise_header("compare_at_price") == "compare at price"


def test_mapping_suggestions_use_names_synonyms_and_give_each_field_once():
    headers = ["Product Name", "Retail Price (NGN)", "Qty", "Colour", "Item Code", "Vendor", "Price", "Notes", "Titel"]
    suggestions = {s.header: (s.field, s.confidence) for s in suggest_mapping(headers)}
    assert suggestions["Product Name"] == ("title", 0.9)
    assert suggestions["Price"] == ("price", 1.0)
    assert suggestions["Retail Price (NGN)"][0] != "price"  # "Price" is the exact match and takes it
    assert suggestions["Qty"] == ("stock", 0.9)
    assert suggestions["Item Code"] == ("sku", 0.9)
    assert suggestions["Vendor"] == ("brand", 0.9)
    assert suggestions["Colour"] == ("option:Colour", 0.8)
    assert suggestions["Notes"] == (None, 0.0)
    assert suggestions["Titel"][0] is None  # "title" is taken by the stronger "Product Name"
    fields = [field for field, _ in suggestions.values() if field]
    assert len(fields) == len(set(fields))


def test_mapped_sheet_with_option_columns():
    parsed = parse_csv(
        "Product Name,Selling Price,Size,Colour,Qty",
        "Adire Scarf,4500,Small,Indigo,3",
        "Adire Scarf,5000,Large,Indigo,1",
        mapping={
            "Product Name": "title",
            "Selling Price": "price",
            "Size": "option:Size",
            "Colour": "option:Colour",
            "Qty": "stock",
        },
    )
    assert parsed.shape == Shape.MAPPED
    assert problems_of(parsed) == []
    (draft,) = parsed.drafts
    assert draft.handle == "adire-scarf"
    assert draft.options == ["Size", "Colour"]
    assert [(v.values, v.fields["price"], v.fields["stock"]) for v in draft.variants] == [
        (("Small", "Indigo"), 450_000, 3),
        (("Large", "Indigo"), 500_000, 1),
    ]


def test_a_mapping_to_unknown_or_repeated_fields_is_a_file_problem():
    parsed = parse_csv("A,B,C", "x,1,2", mapping={"A": "title", "B": "price", "C": "price"})
    assert (None, "", "Columns 'B' and 'C' are both mapped to price") in problems_of(parsed)
    parsed = parse_csv("A,B", "x,1", mapping={"A": "title", "B": "cost"})
    assert (None, "", "Column 'B' is mapped to 'cost', which is not a field") in problems_of(parsed)


def test_a_sheet_without_price_or_product_columns_is_refused_as_a_whole():
    parsed = parse_csv("Notes,Colour", "hello,red", mapping={})
    assert problems_of(parsed) == [
        (None, "", "The sheet needs a price column (or a SKU column to update existing variants)"),
        (None, "", "The sheet needs a handle, title or SKU column to know which product a row is"),
    ]


# --- Shopify ---------------------------------------------------------------------------------------


def test_shopify_rows_variants_continuation_rows_and_images():
    parsed = parse_products(read_sheet((FIXTURES / "shopify_products.csv").read_bytes(), "shopify.csv"), currency="NGN")
    assert parsed.shape == Shape.SHOPIFY
    assert problems_of(parsed) == []
    assert "Variant Barcode" in parsed.ignored_columns and "SEO Title" in parsed.ignored_columns
    dress, holder, butter = parsed.drafts
    assert dress.handle == "ankara-wrap-dress"
    assert dress.rows == [2, 3, 4, 5, 6]
    assert dress.fields == {
        "title": "Ankara Wrap Dress",
        "description": "A wrap dress in bold Ankara print.\n\n• 100% cotton\n• Hand finished",
        "status": "active",
        "brand": "Adire House",
        "category": ["Dresses"],
        "tags": ["ankara", "summer"],
    }
    assert dress.options == ["Size", "Colour"]
    assert [(v.row, v.sku, v.values) for v in dress.variants] == [
        (2, "AWD-S-BLU", ("S", "Blue")),
        (3, "AWD-S-RED", ("S", "Red")),
        (4, "AWD-M-BLU", ("M", "Blue")),
        (5, "AWD-M-RED", ("M", "Red")),
    ]
    assert dress.variants[0].fields == {
        "price": 2_500_000,
        "compare_at_price": 3_000_000,
        "stock": 6,
        "track_inventory": True,
        "weight_grams": 450,
    }
    assert dress.variants[2].fields["price"] == 2_650_000  # "26,500.00"
    assert dress.variants[2].fields["compare_at_price"] is None
    assert [(alt, row) for _, alt, row in dress.images] == [
        ("Ankara Wrap Dress front", 2),
        ("Ankara Wrap Dress back", 3),
        ("Print detail", 6),  # the image-only row is an image, not a variant
    ]
    assert holder.options is None  # "Title: Default Title" means no options
    assert holder.variants[0].values == ()
    assert holder.variants[0].fields["track_inventory"] is False  # no inventory tracker
    assert holder.fields["status"] == "draft"
    assert butter.fields.get("status") == "draft"  # Published FALSE, Status blank
    assert [v.values for v in butter.variants] == [("100ml",), ("250ml",)]


def test_shopify_published_counts_when_status_is_blank():
    parsed = parse_csv(
        "Handle,Title,Published,Status,Variant Price",
        "a,A,TRUE,,10",
        "b,B,TRUE,archived,10",
        "c,C,FALSE,,10",
    )
    assert [d.fields["status"] for d in parsed.drafts] == ["active", "archived", "draft"]


# --- row and column errors -------------------------------------------------------------------------


def test_bad_rows_give_exact_errors_with_row_and_column():
    parsed = parse_products(read_sheet((FIXTURES / "template_bad_rows.csv").read_bytes(), "bad.csv"), currency="NGN")
    assert parsed.shape == Shape.TEMPLATE
    assert problems_of(parsed) == [
        (3, "price", "'-15000': prices cannot be negative"),
        (6, "stock", "'ten' is not a whole number"),
        (4, "sku", "SKU 'LS-S' is already used on row 2"),
        (5, "option2_value", "Unknown option: 'Red' is given for option 2, but the product has only 1 option"),
    ]
    assert parsed.skipped_rows == {3, 4, 5, 6}
    shirt, tote = parsed.drafts
    assert [v.sku for v in shirt.variants] == ["LS-S"]
    assert tote.variants == []


def test_errors_name_the_files_own_headers():
    parsed = parse_csv(
        "Handle,Title,Variant Price,Variant Inventory Qty,Status",
        "a,A,free,2,active",
        "b,B,10,-2,sold out",
    )
    assert problems_of(parsed) == [
        (2, "Variant Price", "'free' is not a price"),
        (3, "Status", "'sold out' is not a status (use active, draft or archived)"),
        (3, "Variant Inventory Qty", "'-2' cannot be negative"),
    ]


def test_rows_of_one_product_must_agree():
    parsed = parse_csv(
        "handle,title,price,brand,option1_name,option1_value",
        "tee,Tee,10,Adire,Size,S",
        "tee,,10,,,M",
        "tee,Tee,10,Other,Size,L",
        "tee,Tee,10,Adire,Colour,XL",
    )
    assert problems_of(parsed) == [
        (4, "brand", "'Other' differs from row 2 of the same product; give it once or the same on every row"),
        (5, "option1_name", "Option 1 is 'Size' on an earlier row, not 'Colour'"),
    ]
    assert parsed.drafts == []  # the whole product is skipped
    assert parsed.bad_product_rows == {"tee": [2, 3, 4, 5]}


def test_option_problems():
    parsed = parse_csv(
        "handle,title,price,option1_name,option1_value,option2_name,option2_value",
        "tee,Tee,10,Size,S,Colour,Red",
        "tee,Tee,10,Size,M,Colour,",
        "tee,Tee,10,Size,S,Colour,red",
        "cap,Cap,10,,,Colour,Red",
    )
    assert problems_of(parsed) == [
        (3, "option2_value", "No value for option Colour"),
        (4, "option1_value", "S / red is already a variant on row 2"),
        (5, "option1_name", "Option 1 has no name"),  # cap: option 2 without option 1
    ]


def test_rows_without_handle_title_or_sku_are_reported():
    parsed = parse_csv("handle,title,price,sku", ",,10,", ",,,")
    assert problems_of(parsed) == [(2, "handle", "The row has no handle, title or SKU to tell which product it is")]


def test_handles_come_from_titles_and_are_kept_when_already_slugs():
    parsed = parse_csv("handle,title,price", ",Ankara Skirt!,10", "My Handle,X,10", "kept-as-is-2,Y,10")
    assert [d.handle for d in parsed.drafts] == ["ankara-skirt", "my-handle", "kept-as-is-2"]
