"""Secrets at rest: the key, sealed values, and the declared secret fields of a config.

Every notification channel and action target declares which of its settings are secret
(:class:`SecretFields`): whole values (a password, a routing key, Slack's webhook URL),
mappings whose every value is secret (HTTP headers, a command's environment) and URLs whose
userinfo and query values are secret. Everything else follows from that declaration:
:func:`seal` encrypts those fields before they are stored, :func:`unseal` reads them back,
:func:`redact` hides them in every response, log and export, :func:`exported` writes the
``${env:NAME}`` reference a secret came from (or a redaction), and :func:`keep_stored`
lets a file holding redactions be applied again without overwriting the stored secrets.

The key (Fernet: AES-128-CBC with HMAC-SHA256) comes from ``$VIGIL_SECRET_KEY``
(comma-separated keys rotate: the first encrypts, all decrypt) or from ``secret.key`` in the
data directory, created with mode 0600 on first use and never overwritten. A stored value
that is not sealed (written before secrets were encrypted) is read as plain text and sealed
on its next write.

>>> box = SecretBox.generate()
>>> fields = SecretFields(values=("password",), maps=("headers",), urls=("url",))
>>> config = {"url": "https://u:pw.7f3e@x.org/h?token=t1&a=1", "password": "p",
...           "headers": {"Authorization": "Bearer t.9c2d"}, "to": "a@x.org"}
>>> stored = seal(fields, config, box)  # ciphertext: not one plain value is left
>>> [v for v in ("pw.7f3e", "Bearer t.9c2d") if v in str(stored)], stored["to"]
([], 'a@x.org')
>>> unseal(fields, stored, box) == config
True
>>> redact(fields, config)
{'url': 'https://***@x.org/h?token=***&a=***', 'password': '***', 'headers': {'Authorization': '***'}, 'to': 'a@x.org'}
"""  # noqa: E501

from __future__ import annotations

import logging
import os
import re
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.orm import Session

from vigil.errors import ConfigError

log = logging.getLogger(__name__)

ENV_KEY = "VIGIL_SECRET_KEY"
KEY_FILE = "secret.key"
SEALED_PREFIX = "vigil-secret:v1:"
REDACTED = "***"
_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_HINT = (
    'make one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


class SecretKeyError(ConfigError):
    """The key of the stored secrets is malformed, missing or not the one that sealed them."""

    code = "secret_key"


class SecretRefError(ConfigError):
    """An ``${env:NAME}`` reference that cannot be resolved, or a redaction with nothing
    stored to keep."""

    code = "secret_ref"


@dataclass(frozen=True)
class SecretFields:
    """The secret settings of one channel or target.

    ``values``: keys whose whole value is secret. ``maps``: keys holding a mapping whose every
    value is secret (the names stay visible). ``urls``: keys holding a URL whose userinfo and
    query values are secret (sealed whole, redacted in part).
    """

    values: tuple[str, ...] = ()
    maps: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    def leaves(self, config: Mapping[str, Any]) -> Iterator[tuple[str, str | None, str]]:
        """``(key, map key or None, kind)`` for every secret value present in ``config``."""
        for key in self.values + self.urls:
            if config.get(key) not in (None, ""):
                yield key, None, "url" if key in self.urls else "value"
        for key in self.maps:
            value = config.get(key)
            if isinstance(value, Mapping):
                for name in value:
                    yield key, str(name), "value"

    def secret_values(self, config: Mapping[str, Any]) -> list[str]:
        """The plain secret strings of ``config`` (to scrub them out of error texts)."""
        out = []
        for key, name, kind in self.leaves(config):
            value = config[key] if name is None else config[key][name]
            if isinstance(value, str) and not is_sealed(value):
                out.append(value)
                if kind == "url":
                    out.extend(_url_secrets(value))
        return [v for v in out if len(v) >= 3]


NO_SECRETS = SecretFields()


# -- the key ---------------------------------------------------------------------------------


def _parse_keys(text: str, source: str) -> MultiFernet:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise SecretKeyError(f"{source}: empty; expected a Fernet key ({_HINT})")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise SecretKeyError(
            f"{source}: not a Fernet key (expected 32 url-safe base64-encoded bytes; {_HINT})"
        ) from None


class SecretBox:
    """Seals and opens secret values with the installation's key.

    ``source`` names where the key comes from (in error messages). ``key_file``, when the key
    is not given directly, is read on first use and created (mode 0600, atomically, never
    overwritten) the first time a value is sealed.
    """

    def __init__(
        self,
        keys: MultiFernet | None = None,
        *,
        key_file: Path | None = None,
        source: str = ENV_KEY,
    ) -> None:
        if keys is None and key_file is None:
            raise SecretKeyError("a secret box needs a key or a key file")
        self._keys = keys
        self.key_file = key_file
        self.source = source if keys is not None else str(key_file)

    @classmethod
    def generate(cls) -> SecretBox:
        """A box with a new random key (tests, in-memory databases)."""
        return cls(MultiFernet([Fernet(Fernet.generate_key())]), source="a key of this process")

    @classmethod
    def for_data_dir(
        cls, data_dir: str | os.PathLike[str], environ: Mapping[str, str] | None = None
    ) -> SecretBox:
        """``$VIGIL_SECRET_KEY`` when set (checked now), else ``{data_dir}/secret.key``."""
        env = os.environ if environ is None else environ
        text = env.get(ENV_KEY, "")
        if text.strip():
            return cls(_parse_keys(text, ENV_KEY), source=ENV_KEY)
        return cls(key_file=Path(data_dir) / KEY_FILE)

    def _load(self, create: bool) -> MultiFernet | None:
        if self._keys is not None:
            return self._keys
        path = self.key_file
        assert path is not None
        if not path.exists():
            if not create:
                return None
            _create_key_file(path)
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretKeyError(f"{path}: cannot read the secret key: {exc}") from None
        self._keys = _parse_keys(text, str(path))
        return self._keys

    def seal_value(self, value: Any, ref: str | None = None) -> str:
        """``value`` (and the reference it came from) encrypted, as a stored string."""
        keys = self._load(create=True)
        assert keys is not None
        doc: dict[str, Any] = {"v": value}
        if ref is not None:
            doc["r"] = ref
        return SEALED_PREFIX + keys.encrypt(orjson.dumps(doc)).decode("ascii")

    def open_value(self, stored: Any) -> tuple[Any, str | None]:
        """The plain value and its ``${env:NAME}`` reference (``None`` when given directly);
        a value that is not sealed is returned as it is."""
        if not is_sealed(stored):
            return stored, None
        keys = self._load(create=False)
        if keys is None:
            raise SecretKeyError(
                f"stored secrets are encrypted, but {ENV_KEY} is not set and "
                f"{self.key_file} does not exist: give the key that encrypted them"
            )
        try:
            doc = orjson.loads(keys.decrypt(stored[len(SEALED_PREFIX) :].encode("ascii")))
        except (InvalidToken, orjson.JSONDecodeError, UnicodeEncodeError):
            raise SecretKeyError(
                f"cannot decrypt a stored secret with the key from {self.source}: it is not "
                f"the key that encrypted it (set {ENV_KEY} to that key)"
            ) from None
        return doc.get("v"), doc.get("r")


def _create_key_file(path: Path) -> None:
    """Write a new key to ``path`` with mode 0600, atomically; an existing file wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, Fernet.generate_key() + b"\n")
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)  # fails when another process created it first
            log.info("created the secret key file %s", path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def is_sealed(value: Any) -> bool:
    """Whether a stored value is a sealed secret."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


_BOXES: weakref.WeakKeyDictionary[Any, SecretBox] = weakref.WeakKeyDictionary()
_PROCESS_BOX: list[SecretBox] = []


def _engine(db: Any) -> Any:
    """The engine of a :class:`~vigil.store.db.Database`, a session or an engine."""
    if isinstance(db, Session):
        return db.get_bind()
    return getattr(db, "engine", db)


def attach(db: Any, box: SecretBox) -> None:
    """Use ``box`` for the secrets stored in ``db`` (a database, session or engine; the
    bootstrap does this)."""
    _BOXES[_engine(db)] = box


def box_of(db: Any) -> SecretBox:
    """The box of ``db`` (a database, session or engine): the one attached, else
    ``$VIGIL_SECRET_KEY``, else ``secret.key`` beside a SQLite file, else a key of this
    process (in-memory databases and databases opened without the bootstrap)."""
    engine = _engine(db)
    box = _BOXES.get(engine)
    if box is not None:
        return box
    url = engine.url
    if os.environ.get(ENV_KEY, "").strip() or (
        url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    ):
        box = SecretBox.for_data_dir(Path(str(url.database or ".")).parent)
    else:
        if not _PROCESS_BOX:
            _PROCESS_BOX.append(SecretBox.generate())
        box = _PROCESS_BOX[0]
    _BOXES[engine] = box
    return box


# -- references ------------------------------------------------------------------------------


def has_ref(value: Any) -> bool:
    """Whether ``value`` holds an ``${env:NAME}`` reference."""
    return isinstance(value, str) and _REF.search(value) is not None


def resolve_refs(value: str, environ: Mapping[str, str], where: str) -> str:
    """``value`` with each ``${env:NAME}`` replaced by the variable's value."""

    def one(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in environ:
            raise SecretRefError(f"{where}: environment variable {name} is not set")
        return environ[name]

    return _REF.sub(one, value)


# -- transforms over a config ----------------------------------------------------------------


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return []
    out = [v for _, v in pairs if v]
    if parts.password:
        out.append(parts.password)
    if parts.username and not parts.password:
        out.append(parts.username)
    return out


def redact_url(url: str) -> str:
    """``url`` with its userinfo and query values replaced by ``***`` (scheme, host, port,
    path and query names stay)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return REDACTED
    if not parts.scheme or not host:
        return REDACTED
    netloc = (f"{REDACTED}@" if parts.username or parts.password else "") + host + port
    query = "&".join(f"{quote(k, safe='')}={REDACTED}" for k, _ in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _map_leaves(
    fields: SecretFields, config: Mapping[str, Any], fn: Callable[[Any, str, str], Any]
) -> dict[str, Any]:
    """A copy of ``config`` with ``fn(value, kind, where)`` applied to each secret value."""
    out = dict(config)
    for key, name, kind in fields.leaves(config):
        if name is None:
            out[key] = fn(config[key], kind, key)
        else:
            inner = dict(out[key])
            inner[name] = fn(config[key][name], kind, f"{key}.{name}")
            out[key] = inner
    return out


def seal(
    fields: SecretFields,
    config: Mapping[str, Any],
    box: SecretBox,
    environ: Mapping[str, str] | None = None,
    what: str = "config",
) -> dict[str, Any]:
    """``config`` with every secret value sealed (as stored). With ``environ``, an
    ``${env:NAME}`` reference is resolved there and remembered next to the value; without
    (the API), a reference is refused: only ``vigil apply`` reads the environment."""

    def one(value: Any, _kind: str, where: str) -> Any:
        if is_sealed(value):
            return value
        ref = None
        if has_ref(value):
            if environ is None:
                raise SecretRefError(
                    f"{what}.{where}: ${{env:NAME}} references are resolved by `vigil apply` "
                    "only; give the value itself"
                )
            ref, value = value, resolve_refs(value, environ, f"{what}.{where}")
        if value == REDACTED or (isinstance(value, str) and REDACTED in value and _kind == "url"):
            raise SecretRefError(
                f"{what}.{where}: holds the redaction {REDACTED!r} but no secret is stored "
                "there to keep; give the value or an ${env:NAME} reference"
            )
        return box.seal_value(value, ref)

    return _map_leaves(fields, config, one)


def seal_plain(
    fields: SecretFields, config: Mapping[str, Any], box: SecretBox
) -> tuple[dict[str, Any], int]:
    """``config`` with every secret value that is not sealed yet sealed as it is (nothing
    resolved or refused: a stored value, written before secrets were sealed), and how many
    were sealed; an all-sealed ``config`` comes back equal, with 0 (``vigil db upgrade``)."""
    count = 0

    def one(value: Any, _kind: str, _where: str) -> Any:
        nonlocal count
        if is_sealed(value):
            return value
        count += 1
        return box.seal_value(value)

    out = _map_leaves(fields, config, one)
    return out, count


def unseal(fields: SecretFields, config: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """``config`` with every secret value in plain text (to deliver with)."""
    return _map_leaves(fields, config, lambda v, _k, _w: box.open_value(v)[0])


def _redact_one(value: Any, kind: str, _where: str) -> Any:
    if kind == "url" and isinstance(value, str) and not is_sealed(value):
        return redact_url(value)
    return REDACTED


def redact(fields: SecretFields, config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every secret value hidden: ``***``, or a URL without its userinfo and
    query values (a sealed URL, not opened, is all ``***``)."""
    return _map_leaves(fields, config, _redact_one)


def exported(
    fields: SecretFields,
    config: Mapping[str, Any],
    box: SecretBox,
    mode: str = "export",
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A stored ``config`` as ``vigil export`` writes it.

    ``mode``: ``"export"``: the ``${env:NAME}`` reference a secret came from, else its
    redaction; ``"plain"``: the secret itself (``--show-secrets``); ``"diff"`` (what a
    ``vigil apply`` plan compares): the reference while the variable still holds the stored
    value, else the value.
    """
    env = os.environ if environ is None else environ

    def one(value: Any, kind: str, where: str) -> Any:
        plain, ref = box.open_value(value)
        if mode == "plain":
            return plain
        if mode == "diff":
            if ref is not None:
                try:
                    same = resolve_refs(ref, env, where) == plain
                except SecretRefError:
                    same = False
                return ref if same else plain
            return plain
        return ref if ref is not None else _redact_one(plain, kind, where)

    return _map_leaves(fields, config, one)


def keep_stored(
    fields: SecretFields,
    desired: Mapping[str, Any],
    current: Mapping[str, Any],
    box: SecretBox | None = None,
) -> dict[str, Any]:
    """``desired`` with each redaction (``***``, or the redacted form of the current URL)
    replaced by the current value, so applying an exported file keeps the stored secrets.
    ``current`` is the stored config (sealed; give ``box``) or, without ``box``, the form of
    :func:`exported` with ``mode="diff"``."""
    out = dict(desired)
    for key, name, kind in fields.leaves(desired):
        value = desired[key] if name is None else desired[key][name]
        if not isinstance(value, str) or REDACTED not in value:
            continue
        held = current.get(key)
        if name is not None:
            held = held.get(name) if isinstance(held, Mapping) else None
        if held is None:
            continue
        plain = box.open_value(held)[0] if box is not None else held
        kept = value == REDACTED or (
            kind == "url" and isinstance(plain, str) and value == _redact_one(plain, kind, key)
        )
        if not kept:
            continue
        if name is None:
            out[key] = held
        else:
            out[key] = {**out[key], name: held}
    return out


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by ``***``."""
    for value in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text
