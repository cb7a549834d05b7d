"""Vendors through the HTTP API: onboarding, tax IDs, MSME classes, review workflow, visibility."""
from __future__ import annotations

import itertools
from typing import Any

import pytest
from stdnum import luhn

from tests.factories import CURRENCIES, PHONES, vendor_payload

VENDORS = "/api/v1/vendors"
PROBLEM = "application/problem+json"

PRIVATE_FIELDS = ("tax_id", "tax_id_type", "contact_email", "phone", "employees", "annual_turnover",
                  "investment", "status_reason", "history")
PUBLIC_FIELDS = ("id", "display_name", "legal_name", "country", "country_name", "sector", "msme_class",
                 "msme_rule", "currency", "status")

_serial = itertools.count(501)


def assert_problem(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with `status` (and `code`, and `field` named in `errors`)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"] and body["code"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body.get("errors", {}), body
        assert body["errors"][field] and all(isinstance(m, str) and m for m in body["errors"][field])
    return body


def payload(base: str = "IN", **overrides: Any) -> dict[str, Any]:
    """A valid payload for a vendor from `base` (also EG and ID, which tests.factories.tax_id cannot
    generate), with `overrides` (which may change `country` too) applied on top."""
    if base in ("EG", "ID"):
        n = next(_serial)
        if base == "EG":
            number = f"{n:09d}"  # 9 digits, no check digit
        else:
            head = f"01{n:06d}"  # NPWP: Luhn over the first 9 digits, then office and branch
            number = head + luhn.calc_check_digit(head) + "123000"
        data = vendor_payload("IN", tax_id=number, phone=PHONES[base],
                              annual_turnover={"amount": "5000000.00", "currency": CURRENCIES[base]})
        data.pop("investment")
        data["country"] = base
    else:
        data = vendor_payload(base)
    data.update(overrides)
    return data


def create(client, owner: dict, base: str = "IN", **overrides: Any):
    return client.post(VENDORS, json=payload(base, **overrides), headers=owner["headers"])


def url(vendor: dict | int, action: str = "") -> str:
    vendor_id = vendor if isinstance(vendor, int) else vendor["id"]
    return f"{VENDORS}/{vendor_id}" + (f"/{action}" if action else "")


def set_status(client, admin: dict, vendor: dict, status: str) -> None:
    """Move a pending vendor to `status` through the admin endpoints."""
    steps = {"pending_review": [], "approved": ["approve"], "rejected": ["reject"],
             "suspended": ["approve", "suspend"]}[status]
    for action in steps:
        response = client.post(url(vendor, action), json={"reason": f"test: {action}"}, headers=admin["headers"])
        assert response.status_code == 200, response.get_json()
    assert status_of(client, admin, vendor) == status


def status_of(client, admin: dict, vendor: dict) -> str:
    return client.get(url(vendor), headers=admin["headers"]).get_json()["status"]


def nbsp_to_space(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def admin(make) -> dict:
    return make.user("admin")


# ================================================================== create

def test_vendor_creates_profile_pending_review_with_computed_fields(client, make):
    owner = make.user("vendor")

    response = create(client, owner, "IN", tax_id="abcfa1234z")

    assert response.status_code == 201
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body["status"] == "pending_review"
    assert body["tax_id"] == "ABCFA1234Z"
    assert body["tax_id_type"] == "pan"
    assert body["msme_class"] == "micro"
    assert body["msme_rule"] == "IN-UDYAM-2025"
    assert body["currency"] == "INR"
    assert body["phone"] == "+919876543210"
    assert body["annual_turnover"]["amount"] == "5000000.00"
    assert body["annual_turnover"]["currency"] == "INR"


@pytest.mark.parametrize("country, currency, phone, rule", [
    ("BR", "BRL", "+5511912345678", "BR-LC123-2006"),
    ("RU", "RUB", "+74951234567", "RU-209FZ"),
    ("IN", "INR", "+919876543210", "IN-UDYAM-2025"),
    ("CN", "CNY", "+8613800138000", "CN-SME-2011"),
    ("ZA", "ZAR", "+27211234567", "ZA-NSBA-2019"),
    ("EG", "EGP", "+201001234567", "EG-LAW152-2020"),
    ("ET", "ETB", "+251911234567", "FALLBACK-EMPLOYEES"),
    ("IR", "IRR", "+989123456789", "FALLBACK-EMPLOYEES"),
    ("AE", "AED", "+971501234567", "FALLBACK-EMPLOYEES"),
    ("ID", "IDR", "+6281234567890", "ID-PP7-2021"),
])
def test_every_eligible_country_can_onboard_with_its_currency_and_e164_phone(client, make, country, currency,
                                                                              phone, rule):
    response = create(client, make.user("vendor"), country)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["country"] == country
    assert body["currency"] == currency
    assert body["phone"] == phone
    assert body["msme_rule"] == rule
    assert body["status"] == "pending_review"


def test_country_code_is_accepted_in_lower_case(client, make):
    response = create(client, make.user("vendor"), "BR", country="br")

    assert response.status_code == 201
    assert response.get_json()["country"] == "BR"
    assert response.get_json()["currency"] == "BRL"


@pytest.mark.parametrize("country", ["US", "GB", "XX", "us"])
def test_vendor_from_non_brics_country_is_refused(client, make, country):
    response = create(client, make.user("vendor"), "IN", country=country)

    body = assert_problem(response, 422, code="country_not_eligible", field="country")
    assert country.upper() in body["detail"]


@pytest.mark.parametrize("country", ["USA", "1N", ""])
def test_malformed_country_code_is_refused(client, make, country):
    assert_problem(create(client, make.user("vendor"), "IN", country=country), 422, field="country")


@pytest.mark.parametrize("role", ["shopper", "admin", "campaign_manager"])
def test_only_vendor_accounts_can_create_a_vendor_profile(client, make, role):
    response = create(client, make.user(role), "IN")

    assert_problem(response, 403, code="forbidden")


def test_creating_a_vendor_profile_needs_a_token(client):
    response = client.post(VENDORS, json=payload("IN"))

    assert_problem(response, 401, code="unauthorized")


def test_second_vendor_profile_for_the_same_account_is_a_conflict(client, make):
    owner = make.user("vendor")
    assert create(client, owner, "IN").status_code == 201

    response = create(client, owner, "BR")

    assert_problem(response, 409, code="vendor_profile_exists")


@pytest.mark.parametrize("field", ["legal_name", "display_name", "country", "tax_id", "contact_email", "phone",
                                   "sector", "employees", "annual_turnover"])
def test_create_requires_each_profile_field(client, make, field):
    data = payload("IN")
    del data[field]

    response = client.post(VENDORS, json=data, headers=make.user("vendor")["headers"])

    assert_problem(response, 422, code="validation_error", field=field)


@pytest.mark.parametrize("field, value", [("status", "approved"), ("msme_class", "micro"), ("owner_id", 1),
                                          ("id", 99), ("tax_id_type", "gstin")])
def test_create_refuses_fields_a_vendor_may_not_set(client, make, field, value):
    response = create(client, make.user("vendor"), "IN", **{field: value})

    assert_problem(response, 422, code="validation_error", field=field)


def test_create_with_invalid_json_is_a_400_problem(client, make):
    response = client.post(VENDORS, data="{not json", content_type="application/json",
                           headers=make.user("vendor")["headers"])

    assert_problem(response, 400, code="invalid_json")


@pytest.mark.parametrize("employees", [-1, "12", 12.5])
def test_employees_must_be_a_whole_non_negative_number(client, make, employees):
    assert_problem(create(client, make.user("vendor"), "IN", employees=employees), 422, field="employees")


def test_sector_must_be_a_known_one(client, make):
    assert_problem(create(client, make.user("vendor"), "IN", sector="mining"), 422, field="sector")


# ================================================================== tax IDs

def test_formatted_cnpj_is_normalized(client, make):
    response = create(client, make.user("vendor"), "BR", tax_id="11.222.333/0001-81")

    assert response.status_code == 201
    assert response.get_json()["tax_id"] == "11222333000181"
    assert response.get_json()["tax_id_type"] == "cnpj"


def test_cpf_is_accepted_for_brazilian_sole_traders(client, make):
    response = create(client, make.user("vendor"), "BR", tax_id="529.982.247-25",
                      employees=1, annual_turnover={"amount": "60000.00", "currency": "BRL"})

    assert response.status_code == 201
    body = response.get_json()
    assert body["tax_id"] == "52998224725"
    assert body["tax_id_type"] == "cpf"
    assert (body["msme_class"], body["msme_subtype"]) == ("micro", "mei")


@pytest.mark.parametrize("country, number, words", [
    ("BR", "11.222.333/0001-82", "check digits are wrong"),
    ("BR", "529.982.247-24", "check digits are wrong"),
    ("RU", "7707083894", "check digit is wrong"),
    ("CN", "91110000600037341M", "check digit"),
    ("ZA", "0123456788", "check digit is wrong"),
])
def test_tax_id_with_wrong_check_digit_is_refused_saying_why(client, make, country, number, words):
    response = create(client, make.user("vendor"), country, tax_id=number)

    body = assert_problem(response, 422, code="invalid_tax_id", field="tax_id")
    assert words in body["errors"]["tax_id"][0]
    assert words in body["detail"]


@pytest.mark.parametrize("country, number, words", [
    ("BR", "1122233300018", "it has 13 digits"),
    ("RU", "77A7083893", "other than digits"),
    ("IN", "ABCDE1234", "it has 9 characters"),
    ("AE", "200000000000001", "must start with 100"),
    ("ET", "12345", "it has 5 digits"),
    ("IR", "4100000000", "it has 10 digits; a national ID has 11 and an economic code has 12"),
])
def test_malformed_tax_id_is_refused_saying_what_is_wrong(client, make, country, number, words):
    response = create(client, make.user("vendor"), country, tax_id=number)

    body = assert_problem(response, 422, field="tax_id")
    assert words in " ".join(body["errors"]["tax_id"])


def test_tax_id_already_onboarded_by_another_account_is_a_conflict(client, make):
    assert create(client, make.user("vendor"), "BR", tax_id="11222333000181").status_code == 201

    # The same number, typed with separators, by someone else.
    response = create(client, make.user("vendor"), "BR", tax_id="11.222.333/0001-81")

    assert_problem(response, 409, code="tax_id_taken", field="tax_id")


# ================================================================== phone and money

@pytest.mark.parametrize("phone", ["12345", "+91 12", "not a phone", "+1 202 555 01"])
def test_invalid_phone_is_refused(client, make, phone):
    assert_problem(create(client, make.user("vendor"), "IN", phone=phone), 422, field="phone")


def test_national_phone_number_is_read_for_the_vendors_country_and_stored_e164(client, make):
    response = create(client, make.user("vendor"), "IN", phone="098765 43210")

    assert response.status_code == 201
    assert response.get_json()["phone"] == "+919876543210"


def test_money_amount_sent_as_json_number_is_refused(client, make):
    response = create(client, make.user("vendor"), "IN", annual_turnover={"amount": 5000000.00, "currency": "INR"})

    assert_problem(response, 422, code="validation_error", field="annual_turnover.amount")


@pytest.mark.parametrize("currency", ["GBP", "XYZ", "inr"])
def test_unsupported_currency_is_refused(client, make, currency):
    response = create(client, make.user("vendor"), "IN", annual_turnover={"amount": "100.00", "currency": currency})

    assert_problem(response, 422, field="annual_turnover.currency")


@pytest.mark.parametrize("money", [{"amount": "12.505", "currency": "INR"}, {"amount": "100.5", "currency": "IRR"}])
def test_more_decimals_than_the_currency_allows_are_refused(client, make, money):
    response = create(client, make.user("vendor"), "IN", investment=money)

    body = assert_problem(response, 422, field="investment.amount")
    assert "decimal places" in body["errors"]["investment.amount"][0]


@pytest.mark.parametrize("amount", ["-1.00", "NaN", "Infinity", "lots", "1e16"])
def test_negative_non_finite_or_absurd_amounts_are_refused(client, make, amount):
    response = create(client, make.user("vendor"), "IN", annual_turnover={"amount": amount, "currency": "INR"})

    assert_problem(response, 422, field="annual_turnover.amount")


# ================================================================== MSME classification

@pytest.mark.parametrize("country, overrides, msme_class, rule, subtype", [
    ("IN", {}, "micro", "IN-UDYAM-2025", None),
    ("IN", {"annual_turnover": {"amount": "100000000.00", "currency": "INR"}}, "micro", "IN-UDYAM-2025", None),
    ("IN", {"annual_turnover": {"amount": "100000000.01", "currency": "INR"}}, "small", "IN-UDYAM-2025", None),
    ("IN", {"investment": {"amount": "25000001.00", "currency": "INR"}}, "small", "IN-UDYAM-2025", None),
    ("IN", {"investment": {"amount": "1250000001.00", "currency": "INR"}}, "large", "IN-UDYAM-2025", None),
    ("BR", {"employees": 1, "annual_turnover": {"amount": "81000.00", "currency": "BRL"}},
     "micro", "BR-LC123-2006", "mei"),
    ("BR", {"employees": 2, "annual_turnover": {"amount": "81000.00", "currency": "BRL"}},
     "micro", "BR-LC123-2006", "me"),
    ("BR", {"annual_turnover": {"amount": "4800000.00", "currency": "BRL"}}, "small", "BR-LC123-2006", "epp"),
    ("BR", {}, "medium", "BR-LC123-2006", None),
    ("RU", {}, "micro", "RU-209FZ", None),
    ("RU", {"employees": 101}, "medium", "RU-209FZ", None),
    ("RU", {"employees": 10, "annual_turnover": {"amount": "500000000.00", "currency": "RUB"}},
     "small", "RU-209FZ", None),
    ("CN", {}, "micro", "CN-SME-2011", None),
    ("CN", {"employees": 20, "annual_turnover": {"amount": "3000000.00", "currency": "CNY"}},
     "small", "CN-SME-2011", None),
    ("ZA", {}, "small", "ZA-NSBA-2019", None),
    ("ZA", {"employees": 10, "annual_turnover": {"amount": "10000000.00", "currency": "ZAR"}},
     "micro", "ZA-NSBA-2019", None),
    ("EG", {}, "small", "EG-LAW152-2020", None),
    ("ID", {}, "micro", "ID-PP7-2021", None),
    ("ET", {}, "small", "FALLBACK-EMPLOYEES", None),
    ("IR", {"employees": 9}, "micro", "FALLBACK-EMPLOYEES", None),
    ("AE", {"employees": 250}, "large", "FALLBACK-EMPLOYEES", None),
])
def test_msme_class_follows_the_national_rule(client, make, country, overrides, msme_class, rule, subtype):
    response = create(client, make.user("vendor"), country, **overrides)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["msme_class"], body["msme_rule"], body["msme_subtype"]) == (msme_class, rule, subtype)


@pytest.mark.parametrize("investment", ["absent", None])
def test_indian_vendor_without_investment_is_refused(client, make, investment):
    data = payload("IN")
    if investment == "absent":
        del data["investment"]
    else:
        data["investment"] = None

    response = client.post(VENDORS, json=data, headers=make.user("vendor")["headers"])

    body = assert_problem(response, 422, code="msme_input_missing", field="investment")
    assert "investment" in body["errors"]["investment"][0]


def test_investment_is_optional_outside_india(client, make):
    response = create(client, make.user("vendor"), "BR")

    assert response.status_code == 201
    assert response.get_json()["investment"] is None


# USD -> INR in the bundled snapshots is about 88.7, so the Udyam micro turnover limit
# (INR 100,000,000) sits near USD 1.127 million.
@pytest.mark.parametrize("usd, msme_class", [("1000000.00", "micro"), ("1200000.00", "small")])
def test_foreign_currency_turnover_is_converted_before_classifying(client, make, usd, msme_class):
    make.rates()

    response = create(client, make.user("vendor"), "IN", annual_turnover={"amount": usd, "currency": "USD"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["msme_class"] == msme_class
    assert body["currency"] == "INR"
    assert (body["annual_turnover"]["amount"], body["annual_turnover"]["currency"]) == (usd, "USD")


def test_same_number_in_rupees_stays_micro_so_conversion_matters(client, make):
    make.rates()

    response = create(client, make.user("vendor"), "IN", annual_turnover={"amount": "1200000.00", "currency": "INR"})

    assert response.get_json()["msme_class"] == "micro"


def test_foreign_currency_investment_is_converted_too(client, make):
    make.rates()

    # USD 300,000 is about INR 26.6 million: above the micro investment limit of INR 25 million.
    response = create(client, make.user("vendor"), "IN", investment={"amount": "300000.00", "currency": "USD"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["msme_class"] == "small"


def test_foreign_currency_turnover_without_exchange_rates_is_refused(client, make):
    response = create(client, make.user("vendor"), "IN", annual_turnover={"amount": "1000000.00", "currency": "USD"})

    assert_problem(response, 422, code="no_exchange_rate", field="annual_turnover")


def test_fallback_rule_needs_no_exchange_rate_because_it_counts_employees_only(client, make):
    response = create(client, make.user("vendor"), "AE", annual_turnover={"amount": "1000000.00", "currency": "USD"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["msme_rule"] == "FALLBACK-EMPLOYEES"


def test_investment_without_exchange_rate_is_refused_where_the_rule_uses_it(client, make):
    response = create(client, make.user("vendor"), "IN", investment={"amount": "10000.00", "currency": "USD"})

    assert_problem(response, 422, code="no_exchange_rate", field="investment")


def test_investment_without_exchange_rate_does_not_block_a_rule_that_ignores_it(client, make):
    # Brazil's rule has no investment criterion, so no USD rate is needed to classify.
    response = create(client, make.user("vendor"), "BR", investment={"amount": "10000.00", "currency": "USD"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["msme_class"] == "medium"
    assert response.get_json()["investment"]["currency"] == "USD"


# ================================================================== review workflow

def test_admin_approves_pending_vendor_and_history_records_it(client, make, admin):
    vendor = make.vendor("IN", approved=False)

    response = client.post(url(vendor, "approve"), json={}, headers=admin["headers"])

    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"
    history = client.get(url(vendor, "history"), headers=admin["headers"]).get_json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "pending_review"),
                                                                     ("pending_review", "approved")]
    assert history[0]["actor_id"] == vendor["owner"]["id"]
    assert history[1]["actor_id"] == admin["id"]
    assert history[1]["reason"] is None
    assert all(h["at"] for h in history)


def test_approve_accepts_an_optional_reason(client, make, admin):
    vendor = make.vendor("IN", approved=False)

    response = client.post(url(vendor, "approve"), json={"reason": "Documents verified"}, headers=admin["headers"])

    assert response.status_code == 200
    assert response.get_json()["status_reason"] == "Documents verified"
    history = client.get(url(vendor, "history"), headers=admin["headers"]).get_json()["items"]
    assert history[-1]["reason"] == "Documents verified"


def test_admin_rejects_pending_vendor_with_reason(client, make, admin):
    vendor = make.vendor("IN", approved=False)

    response = client.post(url(vendor, "reject"), json={"reason": "Tax ID does not match the registry"},
                           headers=admin["headers"])

    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["status_reason"] == "Tax ID does not match the registry"
    history = client.get(url(vendor, "history"), headers=vendor["owner"]["headers"]).get_json()["items"]
    assert history[-1] == {**history[-1], "from_status": "pending_review", "to_status": "rejected",
                           "reason": "Tax ID does not match the registry", "actor_id": admin["id"]}


@pytest.mark.parametrize("action", ["reject", "suspend"])
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}])
def test_reject_and_suspend_require_a_reason(client, make, admin, action, body):
    vendor = make.vendor("IN", approved=action == "suspend")
    before = vendor["status"]

    response = client.post(url(vendor, action), json=body, headers=admin["headers"])

    assert_problem(response, 422, field="reason")
    assert status_of(client, admin, vendor) == before


def test_suspend_then_reapprove_keeps_every_transition(client, make, admin):
    vendor = make.vendor("IN", approved=True)

    suspended = client.post(url(vendor, "suspend"), json={"reason": "Counterfeit goods reported"},
                            headers=admin["headers"])
    assert suspended.status_code == 200
    assert suspended.get_json()["status"] == "suspended"
    approved = client.post(url(vendor, "approve"), json={"reason": "Investigation closed"}, headers=admin["headers"])
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "approved"

    history = client.get(url(vendor, "history"), headers=vendor["owner"]["headers"]).get_json()["items"]
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        (None, "pending_review", None),
        ("pending_review", "approved", None),
        ("approved", "suspended", "Counterfeit goods reported"),
        ("suspended", "approved", "Investigation closed"),
    ]
    assert [h["actor_id"] for h in history][2:] == [admin["id"], admin["id"]]


@pytest.mark.parametrize("status, action", [
    ("pending_review", "suspend"),
    ("approved", "approve"),
    ("approved", "reject"),
    ("rejected", "approve"),
    ("rejected", "reject"),
    ("rejected", "suspend"),
    ("suspended", "suspend"),
    ("suspended", "reject"),
])
def test_invalid_status_transition_is_a_conflict(client, make, admin, status, action):
    vendor = make.vendor("IN", approved=False)
    set_status(client, admin, vendor, status)
    history_before = client.get(url(vendor, "history"), headers=admin["headers"]).get_json()["items"]

    response = client.post(url(vendor, action), json={"reason": "try it"}, headers=admin["headers"])

    assert_problem(response, 409, code="invalid_status_transition")
    assert status_of(client, admin, vendor) == status
    assert client.get(url(vendor, "history"), headers=admin["headers"]).get_json()["items"] == history_before


@pytest.mark.parametrize("action", ["approve", "reject", "suspend"])
@pytest.mark.parametrize("role", ["shopper", "vendor", "campaign_manager"])
def test_only_admins_review_vendors(client, make, admin, action, role):
    vendor = make.vendor("IN", approved=action == "suspend")
    before = vendor["status"]

    response = client.post(url(vendor, action), json={"reason": "self-service"}, headers=make.user(role)["headers"])

    assert_problem(response, 403, code="forbidden")
    assert status_of(client, admin, vendor) == before


def test_vendor_cannot_approve_its_own_profile(client, make, admin):
    vendor = make.vendor("IN", approved=False)

    response = client.post(url(vendor, "approve"), json={}, headers=vendor["owner"]["headers"])

    assert_problem(response, 403)
    assert status_of(client, admin, vendor) == "pending_review"


@pytest.mark.parametrize("action", ["approve", "reject", "suspend"])
def test_review_actions_need_a_token(client, make, action):
    vendor = make.vendor("IN", approved=False)

    assert_problem(client.post(url(vendor, action), json={"reason": "x"}), 401)


def test_reviewing_an_unknown_vendor_is_404(client, make, admin):
    response = client.post(url(999999, "approve"), json={}, headers=admin["headers"])

    assert_problem(response, 404, code="vendor_not_found")


def test_review_body_refuses_unknown_fields(client, make, admin):
    vendor = make.vendor("IN", approved=False)

    response = client.post(url(vendor, "approve"), json={"status": "suspended"}, headers=admin["headers"])

    assert_problem(response, 422, field="status")
    assert status_of(client, admin, vendor) == "pending_review"


# ================================================================== history visibility

@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owner_and_admins_see_the_history(client, make, admin, who):
    vendor = make.vendor("IN", approved=True)
    headers = vendor["owner"]["headers"] if who == "owner" else admin["headers"]

    response = client.get(url(vendor, "history"), headers=headers)

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert len(items) == 2
    assert set(items[0]) == {"from_status", "to_status", "reason", "actor_id", "at"}


@pytest.mark.parametrize("role", ["shopper", "vendor", "campaign_manager"])
@pytest.mark.parametrize("approved", [True, False])
def test_others_get_404_for_a_vendors_history(client, make, role, approved):
    vendor = make.vendor("IN", approved=approved)

    response = client.get(url(vendor, "history"), headers=make.user(role)["headers"])

    body = assert_problem(response, 404, code="vendor_not_found")
    assert "items" not in body


def test_history_needs_a_token(client, make):
    vendor = make.vendor("IN", approved=True)

    response = client.get(url(vendor, "history"))

    assert_problem(response, 401)
    assert "items" not in response.get_json()


# ================================================================== reading a vendor

@pytest.mark.parametrize("viewer", ["anonymous", "shopper", "other_vendor", "campaign_manager"])
def test_approved_vendor_shows_only_public_fields_to_others(client, make, viewer):
    vendor = make.vendor("IN", approved=True)
    headers = {} if viewer == "anonymous" else make.user(
        "vendor" if viewer == "other_vendor" else viewer)["headers"]

    response = client.get(url(vendor), headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    for field in PUBLIC_FIELDS:
        assert field in body
    for field in PRIVATE_FIELDS:
        assert field not in body
    assert body["display_name"] == vendor["display_name"]
    assert body["status"] == "approved"
    assert vendor["tax_id"] not in response.get_data(as_text=True)
    assert "sales@example.com" not in response.get_data(as_text=True)


def test_vendor_cannot_read_another_vendors_private_fields(client, make):
    mine = make.vendor("IN", approved=True)
    theirs = make.vendor("BR", approved=True)

    body = client.get(url(theirs), headers=mine["owner"]["headers"]).get_json()

    assert body["id"] == theirs["id"]
    assert not set(PRIVATE_FIELDS) & set(body)


@pytest.mark.parametrize("who", ["owner", "admin"])
@pytest.mark.parametrize("status", ["pending_review", "approved", "rejected", "suspended"])
def test_owner_and_admins_see_private_fields_in_any_status(client, make, admin, who, status):
    vendor = make.vendor("IN", approved=False)
    set_status(client, admin, vendor, status)
    headers = vendor["owner"]["headers"] if who == "owner" else admin["headers"]

    response = client.get(url(vendor), headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == status
    assert body["tax_id"] == vendor["tax_id"]
    assert body["contact_email"] == "sales@example.com"
    assert body["phone"] == "+919876543210"
    assert body["annual_turnover"]["amount"] == "5000000.00"
    assert body["investment"]["amount"] == "1000000.00"
    assert body["history"][-1]["to_status"] == status


@pytest.mark.parametrize("viewer", ["anonymous", "shopper", "other_vendor", "campaign_manager"])
@pytest.mark.parametrize("status", ["pending_review", "rejected", "suspended"])
def test_unapproved_vendor_is_404_for_everyone_but_owner_and_admins(client, make, admin, viewer, status):
    vendor = make.vendor("IN", approved=False)
    set_status(client, admin, vendor, status)
    headers = {} if viewer == "anonymous" else make.user(
        "vendor" if viewer == "other_vendor" else viewer)["headers"]

    response = client.get(url(vendor), headers=headers)
    missing = client.get(url(999999), headers=headers)

    body = assert_problem(response, 404, code="vendor_not_found")
    assert body == missing.get_json()  # indistinguishable from a vendor that does not exist
    assert vendor["display_name"] not in response.get_data(as_text=True)


def test_reading_a_vendor_with_a_garbage_token_is_401(client, make):
    vendor = make.vendor("IN", approved=True)

    response = client.get(url(vendor), headers={"Authorization": "Bearer not-a-token"})

    assert_problem(response, 401, code="invalid_token")


def test_country_name_and_money_follow_the_locale(client, make):
    vendor = make.vendor("BR", approved=True)
    headers = vendor["owner"]["headers"]

    english = client.get(url(vendor), headers=headers)
    russian = client.get(url(vendor) + "?locale=ru", headers=headers)

    assert english.get_json()["country_name"] == "Brazil"
    assert english.get_json()["annual_turnover"]["formatted"] == "R$5,000,000.00"
    assert russian.status_code == 200
    assert russian.headers["Content-Language"] == "ru"
    assert russian.get_json()["country_name"] == "Бразилия"
    assert nbsp_to_space(russian.get_json()["annual_turnover"]["formatted"]) == "5 000 000,00 R$"


def test_public_view_is_localized_too(client, make):
    vendor = make.vendor("IN", approved=True)

    response = client.get(url(vendor) + "?locale=ru")

    assert response.get_json()["country_name"] == "Индия"


def test_unknown_vendor_is_404(client, admin):
    assert_problem(client.get(url(424242)), 404, code="vendor_not_found")


# ================================================================== updating a vendor

def patch(client, vendor: dict, body: dict, headers: dict | None = None):
    return client.patch(url(vendor), json=body, headers=headers if headers is not None else vendor["owner"]["headers"])


def history_of(client, admin: dict, vendor: dict) -> list[dict]:
    return client.get(url(vendor, "history"), headers=admin["headers"]).get_json()["items"]


def test_changing_only_display_name_keeps_vendor_approved(client, make, admin):
    vendor = make.vendor("IN", approved=True)
    before = history_of(client, admin, vendor)

    response = patch(client, vendor, {"display_name": "Shiny New Name"})

    assert response.status_code == 200
    assert response.get_json()["display_name"] == "Shiny New Name"
    assert response.get_json()["status"] == "approved"
    assert history_of(client, admin, vendor) == before
    assert client.get(url(vendor)).get_json()["display_name"] == "Shiny New Name"


def test_changing_tax_id_sends_approved_vendor_back_to_review(client, make, admin):
    vendor = make.vendor("BR", approved=True)

    response = patch(client, vendor, {"tax_id": "11.222.333/0001-81"})

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "pending_review"
    assert body["tax_id"] == "11222333000181"
    last = history_of(client, admin, vendor)[-1]
    assert (last["from_status"], last["to_status"], last["actor_id"]) == ("approved", "pending_review",
                                                                         vendor["owner"]["id"])
    assert last["reason"]
    assert_problem(client.get(url(vendor)), 404)  # hidden from the public until re-approved


def test_resending_the_same_tax_id_formatted_differently_keeps_vendor_approved(client, make):
    vendor = make.vendor("BR", approved=True, tax_id="11222333000181")

    response = patch(client, vendor, {"tax_id": "11.222.333/0001-81"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"


def test_changing_country_sends_approved_vendor_back_to_review_and_reclassifies(client, make, admin):
    vendor = make.vendor("IN", approved=True)

    response = patch(client, vendor, {"country": "BR", "tax_id": "11.222.333/0001-81", "phone": PHONES["BR"],
                                      "annual_turnover": {"amount": "300000.00", "currency": "BRL"}})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending_review"
    assert (body["country"], body["currency"], body["phone"]) == ("BR", "BRL", "+5511912345678")
    assert (body["msme_class"], body["msme_rule"], body["msme_subtype"]) == ("micro", "BR-LC123-2006", "me")
    assert history_of(client, admin, vendor)[-1]["to_status"] == "pending_review"


def test_changing_only_country_sends_approved_vendor_back_to_review(client, make, admin):
    # A South African tax reference (10 digits, Luhn) is also a well-formed Ethiopian TIN: the tax ID stays.
    vendor = make.vendor("ZA", approved=True)

    response = patch(client, vendor, {"country": "ET"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["country"], body["tax_id"], body["tax_id_type"]) == ("ET", vendor["tax_id"], "et_tin")
    assert body["status"] == "pending_review"
    assert body["msme_rule"] == "FALLBACK-EMPLOYEES"
    last = history_of(client, admin, vendor)[-1]
    assert (last["from_status"], last["to_status"]) == ("approved", "pending_review")


def test_changing_country_checks_the_old_tax_id_against_the_new_country(client, make):
    vendor = make.vendor("IN", approved=True)

    response = patch(client, vendor, {"country": "BR", "annual_turnover": {"amount": "300000.00", "currency": "BRL"}})

    assert_problem(response, 422, code="invalid_tax_id", field="tax_id")
    assert client.get(url(vendor)).get_json()["country"] == "IN"


def test_changing_country_to_an_ineligible_one_is_refused(client, make):
    vendor = make.vendor("IN", approved=True)

    assert_problem(patch(client, vendor, {"country": "US"}), 422, code="country_not_eligible", field="country")


def test_msme_class_is_recomputed_when_employees_change(client, make):
    vendor = make.vendor("RU", approved=True)
    assert vendor["msme_class"] == "micro"

    response = patch(client, vendor, {"employees": 150})

    assert response.status_code == 200
    assert response.get_json()["msme_class"] == "medium"
    assert response.get_json()["status"] == "approved"
    assert client.get(url(vendor)).get_json()["msme_class"] == "medium"


def test_msme_class_is_recomputed_when_turnover_changes(client, make):
    vendor = make.vendor("IN", approved=True)
    assert vendor["msme_class"] == "micro"

    response = patch(client, vendor, {"annual_turnover": {"amount": "200000000.00", "currency": "INR"}})

    assert response.status_code == 200
    assert response.get_json()["msme_class"] == "small"
    assert response.get_json()["annual_turnover"]["amount"] == "200000000.00"


@pytest.mark.parametrize("field, value", [("status", "approved"), ("msme_class", "large"), ("msme_rule", "X"),
                                          ("owner_id", 1), ("status_reason", "ok"), ("currency", "USD")])
def test_patch_refuses_fields_the_owner_may_not_set(client, make, field, value):
    vendor = make.vendor("IN", approved=False)

    response = patch(client, vendor, {field: value, "display_name": "Sneaky"})

    assert_problem(response, 422, code="validation_error", field=field)
    body = client.get(url(vendor), headers=vendor["owner"]["headers"]).get_json()
    assert body["status"] == "pending_review"
    assert body["display_name"] == vendor["display_name"]
    assert body["msme_class"] == vendor["msme_class"]


def test_patch_with_partial_money_is_refused(client, make):
    vendor = make.vendor("IN", approved=True)

    response = patch(client, vendor, {"annual_turnover": {"amount": "100.00"}})

    assert_problem(response, 422, field="annual_turnover.currency")


def test_patch_removing_indian_investment_is_refused(client, make):
    vendor = make.vendor("IN", approved=True)

    assert_problem(patch(client, vendor, {"investment": None}), 422, field="investment")


def test_patch_with_invalid_tax_id_changes_nothing(client, make):
    vendor = make.vendor("BR", approved=True)

    response = patch(client, vendor, {"tax_id": "11.222.333/0001-82", "display_name": "Changed"})

    assert_problem(response, 422, code="invalid_tax_id", field="tax_id")
    body = client.get(url(vendor), headers=vendor["owner"]["headers"]).get_json()
    assert body["status"] == "approved"
    assert body["display_name"] == vendor["display_name"]


def test_patch_to_a_tax_id_taken_by_another_vendor_is_a_conflict(client, make):
    other = make.vendor("BR", approved=True)
    vendor = make.vendor("BR", approved=True)

    response = patch(client, vendor, {"tax_id": other["tax_id"]})

    assert_problem(response, 409, code="tax_id_taken", field="tax_id")


def test_another_vendor_cannot_patch_an_approved_vendor(client, make):
    vendor = make.vendor("IN", approved=True)

    response = patch(client, vendor, {"display_name": "Hijacked"}, headers=make.user("vendor")["headers"])

    assert_problem(response, 403, code="not_vendor_owner")
    assert client.get(url(vendor)).get_json()["display_name"] == vendor["display_name"]


@pytest.mark.parametrize("status", ["pending_review", "rejected", "suspended"])
def test_another_vendor_gets_404_patching_a_hidden_vendor(client, make, admin, status):
    vendor = make.vendor("IN", approved=False)
    set_status(client, admin, vendor, status)

    response = patch(client, vendor, {"display_name": "Hijacked"}, headers=make.user("vendor")["headers"])

    assert_problem(response, 404, code="vendor_not_found")


@pytest.mark.parametrize("role", ["admin", "shopper", "campaign_manager"])
def test_only_the_owner_may_patch_not_even_admins(client, make, role):
    vendor = make.vendor("IN", approved=True)

    response = patch(client, vendor, {"display_name": "Staff edit"}, headers=make.user(role)["headers"])

    assert_problem(response, 403, code="forbidden")
    assert client.get(url(vendor)).get_json()["display_name"] == vendor["display_name"]


def test_patch_needs_a_token(client, make):
    vendor = make.vendor("IN", approved=True)

    assert_problem(patch(client, vendor, {"display_name": "Anon"}, headers={}), 401)


def test_patching_a_rejected_vendor_resubmits_it_for_review(client, make, admin):
    vendor = make.vendor("IN", approved=False)
    set_status(client, admin, vendor, "rejected")

    response = patch(client, vendor, {"legal_name": "Corrected Legal Name Pvt Ltd"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "pending_review"
    last = history_of(client, admin, vendor)[-1]
    assert (last["from_status"], last["to_status"]) == ("rejected", "pending_review")


def test_patching_a_pending_vendor_keeps_it_pending_without_extra_history(client, make, admin):
    vendor = make.vendor("IN", approved=False)

    response = patch(client, vendor, {"tax_id": "ABCFA9999Z"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "pending_review"
    assert len(history_of(client, admin, vendor)) == 1


def test_patching_an_unknown_vendor_is_404(client, make):
    response = client.patch(url(999999), json={"display_name": "x"}, headers=make.user("vendor")["headers"])

    assert_problem(response, 404, code="vendor_not_found")


# ================================================================== review queue

def test_admin_lists_vendors_by_status_oldest_first_with_pagination(client, make, admin):
    pending = [make.vendor("IN", approved=False) for _ in range(3)]
    make.vendor("BR", approved=True)

    first = client.get(f"{VENDORS}?status=pending_review&per_page=2", headers=admin["headers"])
    second = client.get(f"{VENDORS}?status=pending_review&per_page=2&page=2", headers=admin["headers"])

    assert first.status_code == 200
    page1, page2 = first.get_json(), second.get_json()
    assert (page1["total"], page1["page"], page1["per_page"]) == (3, 1, 2)
    assert (page2["total"], page2["page"], page2["per_page"]) == (3, 2, 2)
    assert [v["id"] for v in page1["items"] + page2["items"]] == [v["id"] for v in pending]
    assert all(v["status"] == "pending_review" for v in page1["items"] + page2["items"])
    assert "tax_id" in page1["items"][0]  # admins review private data


def test_review_queue_without_status_lists_every_vendor(client, make, admin):
    make.vendor("IN", approved=False)
    make.vendor("BR", approved=True)

    body = client.get(VENDORS, headers=admin["headers"]).get_json()

    assert body["total"] == 2
    assert (body["page"], body["per_page"]) == (1, 20)
    assert {v["status"] for v in body["items"]} == {"pending_review", "approved"}


def test_review_queue_page_past_the_end_is_empty(client, make, admin):
    make.vendor("IN", approved=False)

    body = client.get(f"{VENDORS}?page=5", headers=admin["headers"]).get_json()

    assert body["items"] == []
    assert body["total"] == 1


@pytest.mark.parametrize("role", ["shopper", "vendor", "campaign_manager"])
def test_review_queue_is_for_admins_only(client, make, role):
    make.vendor("IN", approved=False)

    response = client.get(f"{VENDORS}?status=pending_review", headers=make.user(role)["headers"])

    assert_problem(response, 403, code="forbidden")
    assert "items" not in response.get_json()


def test_review_queue_needs_a_token(client):
    assert_problem(client.get(f"{VENDORS}?status=pending_review"), 401, code="unauthorized")


@pytest.mark.parametrize("query, field", [("per_page=101", "per_page"), ("per_page=0", "per_page"),
                                          ("page=0", "page"), ("status=deleted", "status")])
def test_review_queue_refuses_bad_query_parameters(client, make, admin, query, field):
    response = client.get(f"{VENDORS}?{query}", headers=admin["headers"])

    assert_problem(response, 422, code="validation_error", field=field)


def test_review_queue_accepts_per_page_of_100(client, make, admin):
    response = client.get(f"{VENDORS}?per_page=100", headers=admin["headers"])

    assert response.status_code == 200
    assert response.get_json()["per_page"] == 100
