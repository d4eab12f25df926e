"""Customs weekly exchange rates: the Sunday–Saturday week in Japan time, and `fba-jp rates import|list`."""

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from fba_jp.rates import week_end, week_start
from fba_jp.store import Store
from fba_jp.testing import declaration_data

EXAMPLE_RATES = Path(__file__).resolve().parent.parent / "examples" / "rates.csv"


@pytest.mark.parametrize("day, sunday", [
    ("2026-12-05", "2026-11-29"),  # Saturday: still the week before
    ("2026-12-06", "2026-12-06"),  # Sunday starts a week
    ("2026-12-07", "2026-12-06"),
    ("2026-12-12", "2026-12-06"),  # Saturday ends it
    ("2026-12-13", "2026-12-13"),
    ("2027-01-01", "2026-12-27"),  # across a year end
])
def test_week_starts_on_the_sunday(day, sunday):
    assert week_start(date.fromisoformat(day)) == date.fromisoformat(sunday)
    assert week_end(date.fromisoformat(day)) == date.fromisoformat(sunday) + timedelta(days=6)


def test_a_moment_is_placed_in_its_japanese_week():
    # 20:00 UTC on Saturday is 05:00 on Sunday in Tokyo: the new week
    assert week_start(datetime(2026, 12, 5, 20, 0, tzinfo=timezone.utc)) == date(2026, 12, 6)
    assert week_start(datetime(2026, 12, 5, 14, 59, 59, tzinfo=timezone.utc)) == date(2026, 11, 29)
    # late Saturday evening in New York is already Sunday in Japan too
    assert week_start(datetime(2026, 12, 5, 19, 30, tzinfo=timezone(timedelta(hours=-5)))) == date(2026, 12, 6)
    with pytest.raises(ValueError, match="time zone"):
        week_start(datetime(2026, 12, 5, 20, 0))


def write(tmp_path, text, name="rates.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_the_example_file_and_list_it(run_cli, tmp_path):
    db = tmp_path / "fba_jp.db"
    result = run_cli("rates", "import", EXAMPLE_RATES, "--db", db)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["currencies"] == ["CNY", "EUR", "GBP", "USD"]
    assert {"2026-11-29", "2026-12-06", "2026-12-13"} <= set(summary["weeks"])
    assert summary["imported"] == 4 * len(summary["weeks"])
    assert f"imported {summary['imported']} rates" in result.stderr
    usd = json.loads(run_cli("rates", "list", "--currency", "usd", "--db", db).stdout)
    assert [r["currency"] for r in usd] == ["USD"] * len(summary["weeks"])
    assert [r["week_start"] for r in usd] == sorted(summary["weeks"])
    week = json.loads(run_cli("rates", "list", "--date", "2026-12-07", "--db", db).stdout)
    assert {(r["currency"], r["week_start"], r["week_end"]) for r in week} == {
        (c, "2026-12-06", "2026-12-12") for c in ("CNY", "EUR", "GBP", "USD")}
    assert Store(db).exchange_rate("USD", date(2026, 12, 6)) == Decimal("150.25")


def test_reimporting_reports_the_rates_it_replaced(run_cli, tmp_path):
    db = tmp_path / "fba_jp.db"
    run_cli("rates", "import", write(tmp_path, "week_start,currency,rate\n2026-12-06,USD,150.25\n"), "--db", db)
    again = run_cli("rates", "import", write(tmp_path, "week_start,currency,rate\n2026-12-06,USD,150.30\n"), "--db", db)
    assert json.loads(again.stdout)["changed"] == [
        {"currency": "USD", "week_start": "2026-12-06", "old": "150.25", "new": "150.30"}]
    assert Store(db).exchange_rate("USD", date(2026, 12, 6)) == Decimal("150.30")


def test_a_bad_file_names_file_line_and_field_and_imports_nothing(run_cli, tmp_path):
    db = tmp_path / "fba_jp.db"
    bad = write(tmp_path, "\n".join([
        "week_start,currency,rate",
        "2026-12-06,USD,150.25",      # line 2: good, but must not be imported either
        "2026-12-07,EUR,163.18",      # a Monday
        "2026-12-06,US,1",            # not a currency code
        "2026-12-06,GBP,-190",        # negative
        "2026-12-06,CNY,abc",         # not a number
        "2026-12-06,JPY,1",           # yen needs no rate
        "2026-12-6,CHF,170",          # not YYYY-MM-DD
        "2026-12-06,usd,150.30",      # duplicate of line 2
    ]) + "\n", name="bad.csv")
    result = run_cli("rates", "import", bad, "--db", db)
    assert result.exit_code == 3 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{bad}:3: week_start: 2026-12-07 is a Monday; a customs rate week starts on Sunday " \
                       "(the week containing it starts 2026-12-06)"
    assert any(line.startswith(f"{bad}:4: currency: must be a 3-letter") for line in lines)
    assert f"{bad}:5: rate: must be a positive decimal number such as 150.25 (got '-190')" in lines
    assert f"{bad}:6: rate: must be a positive decimal number such as 150.25 (got 'abc')" in lines
    assert any(line.startswith(f"{bad}:7: currency: JPY") for line in lines)
    assert any(line.startswith(f"{bad}:8: week_start: must be a date YYYY-MM-DD") for line in lines)
    assert any(line.startswith(f"{bad}:9: week_start: USD 2026-12-06 already given on line 2") for line in lines)
    assert lines[-1] == f"{bad}: nothing imported; fix the rows above and import the file again"
    assert Store(db).list_rates() == []


@pytest.mark.parametrize("text, message", [
    ("week,currency,rate\n2026-12-06,USD,150\n", ":1: header: must be exactly the columns week_start,currency,rate"),
    ("week_start,currency,rate\n2026-12-06,USD\n", ":2: row: expected 3 fields"),
    ("week_start,currency,rate\n", ": no rates after the header"),
    ("", ": empty file"),
])
def test_malformed_files_fail_with_one_clear_line(run_cli, tmp_path, text, message):
    path = write(tmp_path, text)
    result = run_cli("rates", "import", path, "--db", tmp_path / "fba_jp.db")
    assert result.exit_code == 3 and result.stderr.startswith(f"{path}{message}")
    assert "Traceback" not in result.stderr


def test_missing_file_and_bad_currency_option(run_cli, tmp_path):
    missing = run_cli("rates", "import", tmp_path / "nope.csv", "--db", tmp_path / "fba_jp.db")
    assert missing.exit_code == 3 and "nope.csv: file not found" in missing.stderr
    assert run_cli("rates", "list", "--currency", "US$", "--db", tmp_path / "fba_jp.db").exit_code == 2


def test_gate_converts_with_the_imported_rate_of_the_declarations_week(run_cli, write_declaration, tmp_path):
    db = tmp_path / "fba_jp.db"
    run_cli("rates", "import", EXAMPLE_RATES, "--db", db)
    path = write_declaration(declaration_data(fx_rates=None, declaration_date="2026-12-13"))
    doc = json.loads(run_cli("gate", path, "--db", db, "-o", "json").stdout)
    valuation = doc["results"][0]["valuation"]
    assert (valuation["exchange_rate"], valuation["rate_week_start"]) == ("151.03", "2026-12-13")
    assert valuation["customs_value_jpy"] == 232_586  # 40 × 38.50 × 151.03 = 232,586.2
    unknown_week = write_declaration(declaration_data(fx_rates=None, declaration_date="2027-03-01"), "late.json")
    result = run_cli("gate", unknown_week, "--db", db, "-o", "json")
    assert result.exit_code == 1
    codes = [f["code"] for f in json.loads(result.stdout)["results"][0]["findings"]]
    assert "VAL_NO_EXCHANGE_RATE" in codes
