"""Tamper-evident templates: an HMAC over what identifies a workbook, with the coordinator's key.

A workbook carries its region (rules and forms) so it can be read anywhere — which also means
a unit holds a copy of the rules it is judged by, and openpyxl plus ten minutes can change the
grades, the weights or the tolerances and recompute the digest. The digest proves nothing
against an editor; a keyed MAC does: only the coordinator's machine (or workspace) holds the
key, so a unit cannot make a valid signature for edited metadata.

What is signed: every metadata row except the signature itself and the carried region's rows,
with ``region_digest`` replaced by the digest of the region files *as carried* — editing a
rule, a form, the unit code, the year or the template version breaks the signature, and so
does stating a digest that is not the files'.

Keys: 32 random bytes, hex, in a small text file created on first use, kept outside the
workbooks — ``%APPDATA%\\selfeval-xl\\signing.key`` on Windows, ``~/.config/selfeval-xl/signing.key``
elsewhere, or ``$SELFEVAL_KEY_FILE``; a workspace keeps its own in its folder. The file can be
copied to a colleague who shares the job. A key is named in the workbook by its id (a digest of
the key, never the key), so a reader knows whether it holds the key that signed it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core.region import REGION_ROW, sources_digest, sources_from_rows

KEY_ENV = "SELFEVAL_KEY_FILE"
KEY_ID, SIGNATURE = "key_id", "signature"

# verification outcomes, as the summary and the workspace show them
VERIFIED, TAMPERED, UNVERIFIABLE, UNSIGNED = "签名有效", "模板被改动", "无法验证（本机没有签发该模板的密钥）", "无签名"


class SigningKeyError(ValueError):
    """A key file that cannot be used; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class SigningKey:
    secret: bytes
    source: str = ""  # where it was read from, for messages

    @property
    def id(self) -> str:
        return hashlib.sha256(b"selfeval-xl key id\0" + self.secret).hexdigest()[:16]


def default_key_path() -> Path:
    """Where this machine keeps its key: outside any workbook, per user."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "selfeval-xl" / "signing.key"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "selfeval-xl" / "signing.key"


# keys read, by path, with the file's identity and times when read (a rewritten key is read again): a batch verifies every workbook
# with this machine's key, and reading it once per workbook was a file open per unit
_READ: dict[str, tuple[tuple[int, ...], SigningKey]] = {}


def read_key(path: str | Path) -> SigningKey:
    path = Path(path)
    try:
        st = os.stat(path)
        hit = _READ.get(str(path))
        if hit is not None and hit[0] == (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size):
            return hit[1]
    except OSError:
        st = None  # said below, as the read fails
    key = _read_key(path)
    if st is not None:
        _READ[str(path)] = ((st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size), key)
    return key


def _read_key(path: Path) -> SigningKey:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SigningKeyError(f"找不到签名密钥文件 {path}") from None
    except (UnicodeDecodeError, OSError) as e:
        raise SigningKeyError(f"签名密钥文件 {path} 无法读取（{type(e).__name__}）") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 16:
        raise SigningKeyError(f"签名密钥文件 {path} 的内容不是本工具生成的密钥（应为 64 位十六进制数字）")
    return SigningKey(secret, str(path))


def machine_key(path: str | Path | None = None, create: bool = True) -> SigningKey | None:
    """This machine's key (or the one at ``path``), created on first use when ``create``.

    Created with O_EXCL and mode 0600: two processes starting at once agree on one key, and
    other users of the machine cannot read it."""
    path = Path(path) if path else default_key_path()
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return read_key(path)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
    return read_key(path)


def known_keys(extra: list[SigningKey] | None = None) -> list[SigningKey]:
    """The keys a reader may verify with: those given, and this machine's if it has one (a
    reader never creates a key)."""
    keys = list(extra or [])
    try:
        mine = machine_key(create=False)
    except SigningKeyError:
        mine = None
    if mine is not None and all(k.id != mine.id for k in keys):
        keys.append(mine)
    return keys


def _payload(meta: dict[str, str], digest: str) -> bytes:
    fields = {k: v for k, v in meta.items() if k not in (SIGNATURE,) and not k.startswith(REGION_ROW)}
    fields["region_digest"] = digest
    return json.dumps(sorted(fields.items()), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(meta: dict[str, str], key: SigningKey | None) -> dict[str, str]:
    """``meta`` with its key id and signature rows (empty when unsigned: the metadata sheet has
    the same rows either way, so skeletons are shared)."""
    out = dict(meta)
    if key is None:
        out[KEY_ID], out[SIGNATURE] = "", ""
        return out
    out[KEY_ID] = key.id
    digest = sources_digest(sources_from_rows(meta)) if any(k.startswith(REGION_ROW) for k in meta) \
        else meta.get("region_digest", "")
    out[SIGNATURE] = hmac.new(key.secret, _payload(out, digest), hashlib.sha256).hexdigest()
    return out


def verify(meta: dict[str, str], keys: list[SigningKey]) -> str:
    """VERIFIED, TAMPERED (we hold the key and the signature does not match what the workbook
    carries), UNVERIFIABLE (signed with a key we do not hold) or UNSIGNED."""
    sig, kid = meta.get(SIGNATURE, ""), meta.get(KEY_ID, "")
    if not sig or not kid:
        return UNSIGNED
    key = next((k for k in keys if k.id == kid), None)
    if key is None:
        return UNVERIFIABLE
    sources = sources_from_rows(meta)
    digest = sources_digest(sources) if sources else meta.get("region_digest", "")
    want = hmac.new(key.secret, _payload(meta, digest), hashlib.sha256).hexdigest()
    return VERIFIED if hmac.compare_digest(want, sig) else TAMPERED
