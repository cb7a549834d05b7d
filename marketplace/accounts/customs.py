"""The shopper's customs identity: declared once, kept sealed, shown masked, and matched against the payer of
an import that needs it (China: name and PRC resident identity number, checked with python-stdnum's
`cn.ric`)."""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from marketplace.accounts.errors import AccountErrorCode
from marketplace.accounts.models import CustomsIdentity, User
from marketplace.kernel import sealing
from marketplace.kernel.errors import Invalid

NAMES = "customs identity names"
NUMBERS = "customs identity numbers"


def mask(number: str) -> str:
    """First three and last two characters: enough for the shopper to recognise it, useless to anyone else."""
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


def normalize_name(name: str) -> str:
    """Names compare without case, width or repeated spaces (a payer's "ZHANG  Wei" is "Zhang Wei")."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def set_identity(session: Session, user: User, name: str, id_number: str) -> CustomsIdentity:
    try:
        number = ric.validate(id_number)
    except ValidationError:
        raise Invalid(AccountErrorCode.INVALID_IDENTITY_NUMBER,
                      _("That is not a valid PRC resident identity number."), field="id_number") from None
    identity = session.get(CustomsIdentity, user.id) or CustomsIdentity(user_id=user.id)
    identity.country = "CN"
    identity.name_sealed = sealing.seal(name.strip(), NAMES)
    identity.id_number_sealed = sealing.seal(number, NUMBERS)
    identity.id_number_digest = sealing.digest(number, NUMBERS)
    identity.id_number_masked = mask(number)
    session.add(identity)
    session.commit()
    return identity


def identity_of(session: Session, user_id: int, lock: bool = False) -> CustomsIdentity | None:
    return session.get(CustomsIdentity, user_id, with_for_update=lock or None)


def name_of(identity: CustomsIdentity) -> str:
    return sealing.unseal(identity.name_sealed, NAMES)


def remove_identity(session: Session, user: User) -> None:
    identity = session.get(CustomsIdentity, user.id)
    if identity is not None:
        session.delete(identity)
    session.commit()
