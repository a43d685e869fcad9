"""Polish answers are read aloud the Polish way: decimal commas, units in the right case, hours as ordinals."""

from __future__ import annotations

import pytest

from voxhub.agent.spoken import speakable


def test_a_decimal_comma_is_read_as_przecinek() -> None:
    assert speakable("Wynik to 2,5.", "pl") == "Wynik to dwa przecinek pięć."


def test_a_decimal_stop_is_read_as_przecinek_too() -> None:
    assert speakable("Zużyto 2.5 kWh.", "pl") == "Zużyto dwa przecinek pięć kilowatogodziny."


def test_a_comma_between_numbers_in_english_still_separates_them() -> None:
    assert speakable("Items 1,2,3 are ready.", "en") == "Items one,two,three are ready."


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1 km", "jeden kilometr"),
        ("3 km", "trzy kilometry"),
        ("12 km", "dwanaście kilometrów"),
        ("22 km", "dwadzieścia dwa kilometry"),
        ("2,5 km", "dwa przecinek pięć kilometra"),
        ("21°C", "dwadzieścia jeden stopni Celsjusza"),
        ("-3,5°C", "minus trzy przecinek pięć stopnia Celsjusza"),
        ("45%", "czterdzieści pięć procent"),
    ],
)
def test_a_unit_takes_the_form_its_number_asks_for(written: str, spoken: str) -> None:
    assert speakable(f"Jest {written}.", "pl") == f"Jest {spoken}."


def test_thousands_apart_by_a_space_are_one_number() -> None:
    assert speakable("To 2 500 osób.", "pl") == "To dwa tysiące pięćset osób."


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Jest 17:30.", "Jest siedemnasta trzydzieści."),
        ("Spotkanie o 8:05.", "Spotkanie o ósmej zero pięć."),
        ("Otwarte do 21:00.", "Otwarte do dwudziestej pierwszej."),
    ],
)
def test_times_are_read_as_ordinal_hours(written: str, spoken: str) -> None:
    assert speakable(written, "pl") == spoken


def test_dates_are_read_day_first_in_the_genitive() -> None:
    assert (
        speakable("Dziś jest 2026-12-08.", "pl")
        == "Dziś jest ósmego grudnia dwa tysiące dwudziestego szóstego roku."
    )
    assert speakable("Termin: 03/04/2026.", "pl") == (
        "Termin: trzeciego kwietnia dwa tysiące dwudziestego szóstego roku."
    )


def test_money_is_read_in_zloty_and_grosze() -> None:
    assert speakable("Kosztuje 12,50 zł.", "pl") == "Kosztuje dwanaście złotych pięćdziesiąt groszy."
    assert speakable("Bilet za 3 €.", "pl") == "Bilet za trzy euro."
