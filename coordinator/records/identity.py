"""Volunteers' real-name identity: ID numbers checked, encrypted at rest with the keys of
``COORDINATOR_ID_NUMBER_KEYS`` (the first encrypts, all decrypt) and re-encrypted on rotation."""

from __future__ import annotations

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import CoordinatorError, Invalid
from coordinator.masking import mask_id_number
from coordinator.people.field_rules import normalize_id_number
from coordinator.records.models import IdType, PersonIdentity

ID_TYPE_LABELS = {
    IdType.resident_id: "居民身份证",
    IdType.hk_macao_permit: "港澳居民来往内地通行证",
    IdType.taiwan_permit: "台湾居民来往大陆通行证",
    IdType.passport: "护照",
    IdType.foreign_permanent_residence: "外国人永久居留身份证",
}
_OTHER_DOCUMENT = re.compile(r"^[A-Z0-9]{5,20}$")
_REENCRYPT_CHUNK = 500


class IdKeysMissing(CoordinatorError):
    status_code = 503
    default_code = "id_keys_missing"


class IdCipher:
    """Encrypts and decrypts ID numbers; built once from the settings at start-up."""

    def __init__(self, keys: list[SecretStr]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k.get_secret_value()) for k in keys]) if keys else None
        except ValueError as exc:
            raise ValueError("COORDINATOR_ID_NUMBER_KEYS holds a key that is not a Fernet key") from exc

    def _keys(self) -> MultiFernet:
        if self._fernet is None:
            raise IdKeysMissing(
                "服务器未配置证件号码加密密钥，无法保存或导出证件号码（COORDINATOR_ID_NUMBER_KEYS）",
                "No ID number key is configured (COORDINATOR_ID_NUMBER_KEYS): ID numbers cannot be "
                "stored or exported",
            )
        return self._fernet

    def encrypt(self, id_number: str) -> str:
        return self._keys().encrypt(id_number.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._keys().decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise IdKeysMissing(
                "证件号码无法解密：加密它的密钥已不在 COORDINATOR_ID_NUMBER_KEYS 中",
                "An ID number cannot be decrypted: its key is no longer in COORDINATOR_ID_NUMBER_KEYS",
                code="id_key_unknown",
            ) from exc

    def rotate(self, token: str) -> str:
        """The token encrypted with the first key (unchanged in meaning)."""
        return self._keys().rotate(token.encode()).decode()


def normalize_document(id_type: IdType, id_number: str) -> str:
    """A resident ID card is checked like residents' (length, birth date, check digit); other
    documents are 5 to 20 letters and digits."""
    if id_type is IdType.resident_id:
        return normalize_id_number(id_number)
    value = re.sub(r"[\s-]", "", id_number).upper()
    if not _OTHER_DOCUMENT.match(value):
        raise Invalid(
            "证件号码应为 5 至 20 位字母或数字",
            "The document number must be 5 to 20 letters or digits",
            code="invalid_id_number",
            field="id_number",
        )
    return value


def seal(identity: PersonIdentity, cipher: IdCipher, id_type: IdType, id_number: str) -> None:
    """Store ``id_number`` on ``identity`` encrypted, with its masked form."""
    number = normalize_document(id_type, id_number)
    identity.id_type = id_type
    identity.id_number_encrypted = cipher.encrypt(number)
    identity.id_number_masked = mask_id_number(number) or ""


async def reencrypt_all(session: AsyncSession, cipher: IdCipher) -> int:
    """Re-encrypt every stored ID number with the first key; answers how many rows were written."""
    changed, after = 0, 0
    while True:
        rows = (
            await session.scalars(
                select(PersonIdentity)
                .where(PersonIdentity.person_id > after)
                .order_by(PersonIdentity.person_id)
                .limit(_REENCRYPT_CHUNK)
            )
        ).all()
        if not rows:
            return changed
        for row in rows:
            row.id_number_encrypted = cipher.rotate(row.id_number_encrypted)
        changed += len(rows)
        after = rows[-1].person_id
        await session.flush()
