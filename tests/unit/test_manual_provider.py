"""ManualProvider: stateless, nothing outside; the app's own tables are the truth for manual payments."""
from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.checkout.payments.base import (
    InvalidSignature,
    PaymentProvider,
    PaymentState,
    RefundState,
    TransferState,
)
from marketplace.checkout.payments.manual import ManualProvider
from marketplace.kernel.money import Money

BRL = Money(Decimal("99.90"), "BRL")


@pytest.fixture
def manual() -> ManualProvider:
    return ManualProvider()


def test_it_is_a_payment_provider(manual):
    provider: PaymentProvider = manual
    assert provider.name == "manual"


def test_create_payment(manual):
    state = manual.create_payment(amount=BRL, idempotency_key="checkout-1", metadata={"order_id": "1"})
    assert state == PaymentState(provider_ref="manual_checkout-1", status="requires_payment", client_secret=None,
                                 metadata={"order_id": "1"})


def test_same_key_same_reference(manual):
    first = manual.create_payment(amount=BRL, idempotency_key="k", metadata={})
    again = manual.create_payment(amount=BRL, idempotency_key="k", metadata={})
    other = manual.create_payment(amount=BRL, idempotency_key="k2", metadata={})
    assert first.provider_ref == again.provider_ref != other.provider_ref


def test_create_payment_works_for_every_currency_including_irr(manual):
    state = manual.create_payment(amount=Money(Decimal("4200000"), "IRR"), idempotency_key="k", metadata={})
    assert state.status == "requires_payment"


def test_create_payment_needs_a_key_and_money(manual):
    with pytest.raises(ValueError):
        manual.create_payment(amount=BRL, idempotency_key="", metadata={})
    with pytest.raises(TypeError):
        manual.create_payment(amount=Decimal("1"), idempotency_key="k", metadata={})


def test_retrieve_payment_does_not_know_better_than_the_app(manual):
    assert manual.retrieve_payment("manual_k") == PaymentState(provider_ref="manual_k", status="requires_payment")


def test_cancel_payment(manual):
    assert manual.cancel_payment("manual_k", "cancel-k").status == "canceled"


def test_refund(manual):
    refund = manual.refund(provider_ref="manual_k", amount=BRL, idempotency_key="refund-9", metadata={})
    assert refund == RefundState(provider_ref="manual_refund_refund-9", status="succeeded", amount=BRL)


def test_refunds_for_charge(manual):
    assert manual.refunds_for_charge("anything") == (None, [])


def test_transfer_is_settled_outside(manual):
    assert manual.transfer(destination="seller-3", amount=BRL, idempotency_key="p", metadata={}) == \
        TransferState(provider_ref=None)


@pytest.mark.parametrize("header", [None, "", "t=1,v1=00"])
def test_no_webhooks(manual, header):
    with pytest.raises(InvalidSignature):
        manual.parse_webhook(b'{"id": "evt_1", "type": "x"}', header)
