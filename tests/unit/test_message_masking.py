"""Contact details in message bodies: e-mail addresses and phone numbers are masked, other numbers are not."""
from __future__ import annotations

import pytest

from marketplace.aftersale.messages.masking import mask_contacts


@pytest.mark.parametrize("text, regions, masked", [
    ("Mail ana.souza@example.com now", ["BR"], "Mail a***@e***.com now"),
    ("email: Ana.Souza+shop@mail.example.co.uk.", ["IN"], "email: A***@m***.uk."),
    ("Call +55 11 91234-5621.", ["IN"], "Call +55 ** *****-**21."),          # a + number, whatever the regions
    ("Call (11) 98765-4321", ["BR"], "Call (**) *****-**21"),               # Brazil's national format
    ("my number is 98765 43210", ["IN", "BR"], "my number is ***** ***10"),  # India's, as the second region
    ("+919876543210", ["ZA"], "+91********10"),
    ("tel:+27-21-555-0199", ["ZA"], "tel:+27-**-***-**99"),
    ("Call +7 495 123-45-67 or +86 138 0013 8000", ["CN"], "Call +7 *** ***-**-67 or +86 *** **** **00"),
])
def test_contact_details_are_masked(text, regions, masked):
    assert mask_contacts(text, regions) == masked


@pytest.mark.parametrize("text", [
    "Delivered on 2026-11-30, order #12345, tracking RR123456785CN.",
    "price 1234.56 BRL, qty 3",
    "Ok @handle and a@b",
    "Is it full-grain leather?",
])
def test_other_text_and_numbers_stay(text):
    assert mask_contacts(text, ["BR", "IN"]) == text


def test_a_national_number_of_a_country_not_in_the_thread_stays():
    assert mask_contacts("ring 98765 43210", ["ZA"]) == "ring 98765 43210"
    assert mask_contacts("ring 98765 43210", []) == "ring 98765 43210"
