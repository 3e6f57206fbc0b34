"""The typed region lists: what is written back reads the same again."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sellers.regions import Area, format_areas, parse_areas

countries = st.sampled_from(["GB", "IE", "FR", "US"])
regions = st.sampled_from(["", "Greater London", "West Yorkshire", "Bristol", "Île-de-France"])
prefixes = st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=0, max_size=4)
areas = st.lists(st.builds(Area, countries, regions, prefixes), max_size=20)


@given(areas)
def test_format_then_parse_gives_the_same_areas(items: list[Area]) -> None:
    assert parse_areas(format_areas(items)) == sorted(set(items))


def test_spacing_case_and_separators_are_forgiven() -> None:
    assert parse_areas(" gb ,  greater   london , ec1 e \n; GB") == [
        Area("GB"),
        Area("GB", "greater london", "E"),
        Area("GB", "greater london", "EC1"),
    ]


@pytest.mark.parametrize("text", ["UK1", "GB, London, E-1", "GB, a, b, c", "G"])
def test_nonsense_names_its_line(text: str) -> None:
    with pytest.raises(ValidationError, match="Area 1"):
        parse_areas(text)
