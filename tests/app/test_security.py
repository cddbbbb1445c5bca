"""Tests of the security primitives: roles, API keys, passwords, JWTs, the vault, the guard."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import jwt
import pytest

from alphintra.security import (
    API_KEY_PREFIX,
    DEFAULT_DEMO_JWT_SECRET,
    MASTER_KEY_ENV,
    MASTER_KEY_FILE_ENV,
    ROLE_PERMISSIONS,
    CredentialDecryptionError,
    CredentialFailure,
    CredentialVault,
    GeneratedApiKey,
    InsecureConfiguration,
    InvalidCredentials,
    MasterKey,
    MasterKeyError,
    PasswordHashFormatError,
    Permission,
    Role,
    Secret,
    TokenClaims,
    check_secrets,
    decode_token,
    generate_api_key,
    has_permission,
    hash_api_key_secret,
    hash_password,
    issue_token,
    parse_api_key,
    password_needs_rehash,
    verify_api_key,
    verify_password,
)

PEPPER = b"test-pepper-0123456789abcdef-0123456789"
JWT_SECRET = "test-jwt-secret-0123456789abcdef-0123456789"
NOW = 1_700_000_000
ACCOUNT = b"account-0001"

# --------------------------------------------------------------------------------------
# Roles and permissions
# --------------------------------------------------------------------------------------


def test_role_permissions_every_role_mapped_covers_all_roles() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_role_permissions_admin_has_every_permission() -> None:
    assert all(has_permission(Role.ADMIN, permission) for permission in Permission)


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (Role.TRADER, {Permission.READ, Permission.TRADE}),
        (Role.RISK_OFFICER, {Permission.READ, Permission.MANAGE_RISK}),
        (Role.READ_ONLY, {Permission.READ}),
    ],
)
def test_has_permission_non_admin_role_grants_exactly_its_set(
    role: Role, granted: set[Permission]
) -> None:
    for permission in Permission:
        assert has_permission(role, permission) == (permission in granted)


def test_role_permissions_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        ROLE_PERMISSIONS[Role.READ_ONLY] = frozenset(Permission)  # type: ignore[index]


# --------------------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------------------


def test_generate_api_key_parse_and_verify_round_trip() -> None:
    full_key, key_id, key_hash = generate_api_key(PEPPER)
    parsed_id, secret = parse_api_key(full_key)
    assert full_key.startswith(API_KEY_PREFIX)
    assert parsed_id == key_id
    assert len(key_id) == 12
    assert len(secret) >= 43  # 32 bytes of entropy, url-safe base64
    assert secret not in key_hash
    assert verify_api_key(secret, key_hash, PEPPER)


def test_generate_api_key_many_keys_ids_and_secrets_are_unique() -> None:
    keys = [generate_api_key(PEPPER) for _ in range(200)]
    assert len({key.key_id for key in keys}) == 200
    assert len({key.full_key for key in keys}) == 200


def test_generate_api_key_repr_hides_full_key() -> None:
    key = generate_api_key(PEPPER)
    _, secret = parse_api_key(key.full_key)
    for rendered in (repr(key), str(key), f"{key}", "%s" % (key,)):  # noqa: UP031
        assert secret not in rendered
        assert key.key_id in rendered


def test_generate_api_key_short_pepper_raises_value_error() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes, got 5"):
        generate_api_key(b"short")


def test_parse_api_key_underscores_inside_parts_split_by_position() -> None:
    key_id = "ab_cd-ef_g_h"
    secret = "_" + "s" * 20 + "_" + "t" * 21
    assert parse_api_key(f"alp_{key_id}_{secret}") == (key_id, secret)


_VALID_ID = "A" * 12
_VALID_SECRET = "B" * 43


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must start with 'alp_'"),
        ("alp_", "is 4 characters long, expected 60"),
        (f"xyz_{_VALID_ID}_{_VALID_SECRET}", "must start with 'alp_'"),
        (f"ALP_{_VALID_ID}_{_VALID_SECRET}", "must start with 'alp_'"),
        (f"alp_{_VALID_ID}_{_VALID_SECRET}X", "is 61 characters long, expected 60"),
        (f"alp_{_VALID_ID}_{_VALID_SECRET[:-1]}", "is 59 characters long, expected 60"),
        (f"alp_{_VALID_ID}-{_VALID_SECRET}", "must have '_' after the 12-character key id"),
        (f"alp_{'!' * 12}_{_VALID_SECRET}", "key id has characters outside"),
        (f"alp_{_VALID_ID}_{'B' * 42} ", "secret has characters outside"),
        (f"alp_{_VALID_ID}_{'B' * 42}é", "secret has characters outside"),
        (f"Bearer {_VALID_ID}_{_VALID_SECRET}", "must start with 'alp_'"),
    ],
)
def test_parse_api_key_malformed_raises_invalid_credentials(text: str, message: str) -> None:
    with pytest.raises(InvalidCredentials, match=message) as caught:
        parse_api_key(text)
    assert caught.value.reason is CredentialFailure.MALFORMED
    assert _VALID_SECRET[:20] not in str(caught.value)


def test_verify_api_key_wrong_secret_rejected() -> None:
    _, _, key_hash = generate_api_key(PEPPER)
    other_secret = parse_api_key(generate_api_key(PEPPER).full_key)[1]
    assert not verify_api_key(other_secret, key_hash, PEPPER)


def test_verify_api_key_wrong_pepper_rejected() -> None:
    full_key, _, key_hash = generate_api_key(PEPPER)
    _, secret = parse_api_key(full_key)
    assert not verify_api_key(secret, key_hash, PEPPER + b"!")


def test_verify_api_key_garbage_stored_hash_rejected_without_error() -> None:
    _, secret = parse_api_key(generate_api_key(PEPPER).full_key)
    assert not verify_api_key(secret, "", PEPPER)
    assert not verify_api_key(secret, "é" * 64, PEPPER)


def test_hash_api_key_secret_same_input_is_deterministic() -> None:
    assert hash_api_key_secret("abc", PEPPER) == hash_api_key_secret("abc", PEPPER)
    assert len(hash_api_key_secret("abc", PEPPER)) == 64


# --------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------


def test_hash_password_verify_round_trip() -> None:
    stored = hash_password("correct horse battery staple")
    assert verify_password("correct horse battery staple", stored)


def test_verify_password_wrong_password_rejected() -> None:
    stored = hash_password("correct horse battery staple")
    assert not verify_password("correct horse battery stapl", stored)
    assert not verify_password("", stored)


def test_hash_password_format_is_self_describing_with_fresh_salt() -> None:
    first, second = hash_password("pw"), hash_password("pw")
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert first != second
    assert "pw" not in first.split("$")[4:]


def test_hash_password_empty_raises_value_error() -> None:
    with pytest.raises(ValueError, match="password is empty"):
        hash_password("")


def test_verify_password_unicode_password_round_trip() -> None:
    stored = hash_password("pässwörd-秘密")
    assert verify_password("pässwörd-秘密", stored)
    assert not verify_password("passwort-秘密", stored)


def test_password_needs_rehash_current_params_false_weaker_true() -> None:
    stored = hash_password("pw")
    assert not password_needs_rehash(stored)
    weaker = stored.replace("scrypt$16384$", "scrypt$1024$", 1)
    assert password_needs_rehash(weaker)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("", "has 1 '\\$'-separated fields, expected 6"),
        ("bcrypt$16384$8$1$AAAA$AAAA", "scheme is 'bcrypt', expected 'scrypt'"),
        ("scrypt$lots$8$1$AAAA$AAAA", "parameter n must be a decimal integer, got 'lots'"),
        ("scrypt$1000$8$1$AAAA$AAAA", "invalid scrypt parameters n=1000 r=8 p=1"),
        ("scrypt$16384$0$1$AAAA$AAAA", "invalid scrypt parameters n=16384 r=0 p=1"),
        ("scrypt$1048576$8$1$AAAA$AAAA", "need more than 256 MiB"),
        ("scrypt$16384$8$1$!!!!$AAAA", "salt is not valid base64"),
        ("scrypt$16384$8$1$AAAA$AAAA", "digest 3 bytes"),
    ],
)
def test_verify_password_malformed_stored_hash_raises(stored: str, message: str) -> None:
    with pytest.raises(PasswordHashFormatError, match=message):
        verify_password("pw", stored)


# --------------------------------------------------------------------------------------
# JSON Web Tokens
# --------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": "user-1",
        "role": "trader",
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "token-1",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _decode_failure(token: str, now: int = NOW) -> InvalidCredentials:
    with pytest.raises(InvalidCredentials) as caught:
        decode_token(token, JWT_SECRET, now=now)
    if token:
        assert token not in str(caught.value)
    return caught.value


def test_issue_token_decode_round_trip() -> None:
    token = issue_token_for("user-7", Role.RISK_OFFICER)
    claims = decode_token(token, JWT_SECRET, now=NOW + 10)
    assert isinstance(claims, TokenClaims)
    assert (claims.subject, claims.role) == ("user-7", Role.RISK_OFFICER)
    assert (claims.issued_at, claims.expires_at) == (NOW, NOW + 3600)
    assert claims.token_id


def issue_token_for(subject: str, role: Role, ttl_s: int = 3600) -> str:
    return issue_token(subject, role, JWT_SECRET, ttl_s=ttl_s, now=NOW)


def test_issue_token_each_token_has_unique_jti() -> None:
    first = decode_token(issue_token_for("u", Role.ADMIN), JWT_SECRET, now=NOW)
    second = decode_token(issue_token_for("u", Role.ADMIN), JWT_SECRET, now=NOW)
    assert first.token_id != second.token_id


def test_issue_token_header_pins_hs256() -> None:
    assert jwt.get_unverified_header(issue_token_for("u", Role.ADMIN))["alg"] == "HS256"


@pytest.mark.parametrize(("ttl_s", "message"), [(0, "got 0"), (-5, "got -5")])
def test_issue_token_non_positive_ttl_raises_value_error(ttl_s: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        issue_token_for("u", Role.ADMIN, ttl_s=ttl_s)


def test_decode_token_at_expiry_raises_expired() -> None:
    token = issue_token_for("u", Role.TRADER, ttl_s=60)
    assert decode_token(token, JWT_SECRET, now=NOW + 59).subject == "u"
    failure = _decode_failure(token, now=NOW + 60)
    assert failure.reason is CredentialFailure.EXPIRED
    assert f"expired at {NOW + 60}, now is {NOW + 60}" in str(failure)


def test_decode_token_expired_within_leeway_accepted() -> None:
    token = issue_token_for("u", Role.TRADER, ttl_s=60)
    assert decode_token(token, JWT_SECRET, now=NOW + 65, leeway_s=10).subject == "u"


def test_decode_token_issued_in_future_raises_not_yet_valid() -> None:
    failure = _decode_failure(issue_token_for("u", Role.TRADER), now=NOW - 100)
    assert failure.reason is CredentialFailure.NOT_YET_VALID


def test_decode_token_other_secret_raises_bad_signature() -> None:
    token = issue_token_for("u", Role.TRADER)
    with pytest.raises(InvalidCredentials) as caught:
        decode_token(token, JWT_SECRET + "-other", now=NOW)
    assert caught.value.reason is CredentialFailure.BAD_SIGNATURE
    assert JWT_SECRET not in str(caught.value)


def test_decode_token_tampered_payload_raises_bad_signature() -> None:
    header, _, signature = issue_token_for("u", Role.TRADER).split(".")
    forged = _b64url(json.dumps(_claims(role="admin")).encode())
    failure = _decode_failure(f"{header}.{forged}.{signature}")
    assert failure.reason is CredentialFailure.BAD_SIGNATURE


def test_decode_token_alg_none_raises_wrong_algorithm() -> None:
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(_claims(role="admin")).encode())
    failure = _decode_failure(f"{header}.{payload}.")
    assert failure.reason is CredentialFailure.WRONG_ALGORITHM
    assert "'none'" in str(failure)


def test_decode_token_hs512_with_right_secret_raises_wrong_algorithm() -> None:
    secret = JWT_SECRET * 2  # 64+ bytes so PyJWT does not warn about the key length
    token = jwt.encode(_claims(), secret, algorithm="HS512")
    with pytest.raises(InvalidCredentials) as caught:
        decode_token(token, secret, now=NOW)
    assert caught.value.reason is CredentialFailure.WRONG_ALGORITHM
    assert "'HS512', only 'HS256' is accepted" in str(caught.value)


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "a.b", "a.b.c", "!!!.???.###", "e30.e30.e30"],
)
def test_decode_token_garbage_raises_malformed(token: str) -> None:
    failure = _decode_failure(token)
    assert failure.reason in {CredentialFailure.MALFORMED, CredentialFailure.WRONG_ALGORITHM}


def test_decode_token_oversized_raises_malformed() -> None:
    failure = _decode_failure("a" * 10_000)
    assert failure.reason is CredentialFailure.MALFORMED
    assert "10000 characters" in str(failure)


@pytest.mark.parametrize("claim", ["sub", "role", "iat", "exp", "jti"])
def test_decode_token_missing_claim_raises_malformed(claim: str) -> None:
    token = jwt.encode(_claims(**{claim: None}), JWT_SECRET, algorithm="HS256")
    failure = _decode_failure(token)
    assert failure.reason is CredentialFailure.MALFORMED
    assert f"lacks the required claim {claim!r}" in str(failure)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": "tomorrow"}, "'exp' must be an integer, got str"),
        ({"iat": True}, "'iat' must be an integer, got bool"),
        ({"sub": ""}, "'sub' must be a non-empty string"),
    ],
)
def test_decode_token_bad_claim_type_raises_malformed(
    overrides: dict[str, object], message: str
) -> None:
    token = jwt.encode(_claims(**overrides), JWT_SECRET, algorithm="HS256")
    failure = _decode_failure(token)
    assert failure.reason is CredentialFailure.MALFORMED
    assert message in str(failure)


@pytest.mark.parametrize("role", ["superuser", "ADMIN", 3])
def test_decode_token_unknown_role_raises_unknown_role(role: object) -> None:
    token = jwt.encode(_claims(role=role), JWT_SECRET, algorithm="HS256")
    failure = _decode_failure(token)
    assert failure.reason is CredentialFailure.UNKNOWN_ROLE
    assert repr(role) in str(failure)


def test_decode_token_future_nbf_raises_not_yet_valid() -> None:
    token = jwt.encode(_claims(nbf=NOW + 30), JWT_SECRET, algorithm="HS256")
    assert _decode_failure(token).reason is CredentialFailure.NOT_YET_VALID


# --------------------------------------------------------------------------------------
# Master key
# --------------------------------------------------------------------------------------

KEY_BYTES = bytes(range(32))
KEY_B64 = base64.b64encode(KEY_BYTES).decode()


def test_master_key_from_env_inline_base64_loaded() -> None:
    key = MasterKey.from_env({MASTER_KEY_ENV: KEY_B64})
    assert key == MasterKey(KEY_BYTES)
    assert key is not None
    assert key.to_base64() == KEY_B64


def test_master_key_from_env_file_loaded(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(KEY_B64 + "\n", encoding="ascii")
    assert MasterKey.from_env({MASTER_KEY_FILE_ENV: str(path)}) == MasterKey(KEY_BYTES)


def test_master_key_from_env_neither_variable_returns_none() -> None:
    assert MasterKey.from_env({"UNRELATED": "x"}) is None


def test_master_key_from_env_both_variables_raises() -> None:
    with pytest.raises(MasterKeyError, match="both ALPHINTRA_MASTER_KEY and"):
        MasterKey.from_env({MASTER_KEY_ENV: KEY_B64, MASTER_KEY_FILE_ENV: "/x"})


def test_master_key_from_env_wrong_length_raises_naming_variable() -> None:
    short = base64.b64encode(b"k" * 16).decode()
    with pytest.raises(MasterKeyError) as caught:
        MasterKey.from_env({MASTER_KEY_ENV: short})
    assert str(caught.value) == (
        "environment variable ALPHINTRA_MASTER_KEY decodes to 16 bytes, expected 32"
    )


@pytest.mark.parametrize("value", ["not base64!", "QUJ", KEY_B64[:-2]])
def test_master_key_from_env_bad_base64_raises_without_echoing(value: str) -> None:
    with pytest.raises(MasterKeyError, match="ALPHINTRA_MASTER_KEY is not valid") as caught:
        MasterKey.from_env({MASTER_KEY_ENV: value})
    assert value not in str(caught.value)


def test_master_key_from_env_empty_value_raises() -> None:
    with pytest.raises(MasterKeyError, match="ALPHINTRA_MASTER_KEY is empty"):
        MasterKey.from_env({MASTER_KEY_ENV: "  "})


def test_master_key_from_env_missing_file_raises_naming_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(MasterKeyError) as caught:
        MasterKey.from_env({MASTER_KEY_FILE_ENV: str(path)})
    assert str(path) in str(caught.value)
    assert MASTER_KEY_FILE_ENV in str(caught.value)
    assert "No such file or directory" in str(caught.value)


def test_master_key_from_env_directory_as_file_raises(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="cannot read master key file"):
        MasterKey.from_env({MASTER_KEY_FILE_ENV: str(tmp_path)})


def test_master_key_from_env_binary_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "binary.key"
    path.write_bytes(b"\xff" * 32)
    with pytest.raises(MasterKeyError, match="is not ASCII text"):
        MasterKey.from_env({MASTER_KEY_FILE_ENV: str(path)})


def test_master_key_from_env_file_with_wrong_length_names_file(tmp_path: Path) -> None:
    path = tmp_path / "short.key"
    path.write_text(base64.b64encode(b"k" * 24).decode(), encoding="ascii")
    with pytest.raises(MasterKeyError, match="decodes to 24 bytes, expected 32") as caught:
        MasterKey.from_env({MASTER_KEY_FILE_ENV: str(path)})
    assert str(path) in str(caught.value)


def test_master_key_raw_wrong_length_raises() -> None:
    with pytest.raises(MasterKeyError, match="must be 32 bytes, got 31"):
        MasterKey(b"k" * 31)


def test_master_key_repr_shows_fingerprint_not_key() -> None:
    key = MasterKey(KEY_BYTES)
    assert repr(key) == f"MasterKey(fingerprint={key.fingerprint!r})"
    assert KEY_B64 not in repr(key)
    assert KEY_BYTES.hex() not in repr(key)
    assert key.fingerprint != MasterKey.generate().fingerprint


# --------------------------------------------------------------------------------------
# Credential vault
# --------------------------------------------------------------------------------------


@pytest.fixture
def vault() -> CredentialVault:
    return CredentialVault(MasterKey(KEY_BYTES))


def test_credential_vault_encrypt_decrypt_round_trip(vault: CredentialVault) -> None:
    plaintext = b'{"api_key": "AKIA...", "api_secret": "s3cr3t"}'
    blob = vault.encrypt(plaintext, ACCOUNT)
    assert plaintext not in blob
    assert blob[0] == 1
    assert len(blob) == 1 + 12 + len(plaintext) + 16
    assert vault.decrypt(blob, ACCOUNT) == plaintext


def test_credential_vault_empty_plaintext_round_trip(vault: CredentialVault) -> None:
    assert vault.decrypt(vault.encrypt(b"", ACCOUNT), ACCOUNT) == b""


def test_credential_vault_new_vault_same_key_decrypts(vault: CredentialVault) -> None:
    blob = vault.encrypt(b"secret", ACCOUNT)
    assert CredentialVault(MasterKey(KEY_BYTES)).decrypt(blob, ACCOUNT) == b"secret"


@pytest.mark.parametrize(
    "position",
    [0, 1, 12, 13, 20, -16, -1],
    ids=[
        "version",
        "nonce-first",
        "nonce-last",
        "ciphertext-first",
        "ciphertext",
        "tag",
        "tag-last",
    ],
)
def test_credential_vault_flipped_byte_raises(vault: CredentialVault, position: int) -> None:
    blob = bytearray(vault.encrypt(b"broker-api-secret-0123456789", ACCOUNT))
    blob[position] ^= 0x01
    with pytest.raises(CredentialDecryptionError):
        vault.decrypt(bytes(blob), ACCOUNT)


def test_credential_vault_wrong_associated_data_raises(vault: CredentialVault) -> None:
    blob = vault.encrypt(b"plaintext-XYZ", ACCOUNT)
    with pytest.raises(CredentialDecryptionError, match="b'account-0002'") as caught:
        vault.decrypt(blob, b"account-0002")
    assert "plaintext-XYZ" not in str(caught.value)


def test_credential_vault_wrong_key_raises(vault: CredentialVault) -> None:
    blob = vault.encrypt(b"secret", ACCOUNT)
    other = CredentialVault(MasterKey.generate())
    with pytest.raises(CredentialDecryptionError, match="failed authentication"):
        other.decrypt(blob, ACCOUNT)


def test_credential_vault_truncated_blob_raises(vault: CredentialVault) -> None:
    with pytest.raises(CredentialDecryptionError, match="is 28 bytes, shorter than the minimum 29"):
        vault.decrypt(vault.encrypt(b"", ACCOUNT)[:-1], ACCOUNT)


def test_credential_vault_unknown_version_raises(vault: CredentialVault) -> None:
    blob = b"\x07" + vault.encrypt(b"secret", ACCOUNT)[1:]
    with pytest.raises(CredentialDecryptionError, match="format version 7, expected 1"):
        vault.decrypt(blob, ACCOUNT)


def test_credential_vault_empty_associated_data_raises(vault: CredentialVault) -> None:
    with pytest.raises(ValueError, match="associated_data is empty"):
        vault.encrypt(b"secret", b"")


def test_credential_vault_thousand_encryptions_nonces_unique(vault: CredentialVault) -> None:
    nonces = {vault.encrypt(b"same plaintext", ACCOUNT)[1:13] for _ in range(1000)}
    assert len(nonces) == 1000


def test_credential_vault_repr_hides_key(vault: CredentialVault) -> None:
    assert KEY_B64 not in repr(vault)
    assert MasterKey(KEY_BYTES).fingerprint in repr(vault)


# --------------------------------------------------------------------------------------
# Secret
# --------------------------------------------------------------------------------------

RAW = "broker-api-secret-XYZ"


def test_secret_repr_str_and_format_are_masked() -> None:
    secret = Secret(RAW)
    for rendered in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>40}"):
        assert rendered.strip() == "Secret('***')"
    assert RAW not in "%s %r" % (secret, secret)  # noqa: UP031
    assert RAW not in repr({"credentials": [secret]})


def test_secret_logged_in_dict_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("alphintra.test_security")
    credentials = {"api_key": "AK-1", "api_secret": Secret(RAW)}
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("loaded credentials %s", credentials)
        logger.info("loaded credentials %r", credentials)
        logger.info("secret field: %s", credentials["api_secret"])
        logger.info(f"f-string: {credentials}")
    assert len(caplog.records) == 4
    assert RAW not in caplog.text
    assert "Secret('***')" in caplog.text


def test_secret_reveal_returns_raw_value() -> None:
    assert Secret(RAW).reveal() == RAW
    assert Secret(b"raw").reveal() == b"raw"


def test_secret_equality_compares_values() -> None:
    assert Secret(RAW) == Secret(RAW)
    assert Secret(RAW) != Secret(RAW + "x")
    assert Secret("raw") != Secret(b"raw")
    assert Secret(RAW) != RAW


def test_secret_has_no_instance_dict() -> None:
    assert not hasattr(Secret(RAW), "__dict__")


# --------------------------------------------------------------------------------------
# Default-secret guard
# --------------------------------------------------------------------------------------

STRONG_SECRET = "x" * 32


def test_check_secrets_production_all_good_returns_no_problems() -> None:
    assert (
        check_secrets(demo_mode=False, jwt_secret=STRONG_SECRET, master_key=MasterKey(KEY_BYTES))
        == ()
    )


def test_check_secrets_production_default_jwt_secret_raises() -> None:
    with pytest.raises(InsecureConfiguration, match="built-in demo default") as caught:
        check_secrets(
            demo_mode=False, jwt_secret=DEFAULT_DEMO_JWT_SECRET, master_key=MasterKey(KEY_BYTES)
        )
    assert DEFAULT_DEMO_JWT_SECRET not in str(caught.value)


def test_check_secrets_production_short_jwt_secret_raises_with_length() -> None:
    with pytest.raises(InsecureConfiguration, match="31 characters long, need at least 32"):
        check_secrets(demo_mode=False, jwt_secret="y" * 31, master_key=MasterKey(KEY_BYTES))


def test_check_secrets_production_missing_master_key_raises() -> None:
    with pytest.raises(InsecureConfiguration, match="no master key: set ALPHINTRA_MASTER_KEY"):
        check_secrets(demo_mode=False, jwt_secret=STRONG_SECRET, master_key=None)


def test_check_secrets_production_several_problems_all_listed() -> None:
    with pytest.raises(InsecureConfiguration) as caught:
        check_secrets(demo_mode=False, jwt_secret="", master_key=None)
    assert len(caught.value.problems) == 2
    assert "0 characters long" in str(caught.value)


def test_check_secrets_demo_mode_defaults_returned_as_warnings() -> None:
    problems = check_secrets(demo_mode=True, jwt_secret=DEFAULT_DEMO_JWT_SECRET, master_key=None)
    assert len(problems) == 2
    assert "built-in demo default" in problems[0]


def test_default_demo_jwt_secret_long_enough_for_hs256() -> None:
    assert len(DEFAULT_DEMO_JWT_SECRET.encode()) >= 32


def test_generated_api_key_is_a_three_tuple() -> None:
    key = generate_api_key(PEPPER)
    assert isinstance(key, GeneratedApiKey)
    assert isinstance(key, tuple)
    assert len(key) == 3
