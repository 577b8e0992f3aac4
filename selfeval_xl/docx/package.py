"""Save a python-docx document reproducibly: fixed zip entry times, parts rewritten on the way out.

The reports and the report template are both saved here, so the same input gives the same
bytes (tests compare builds; coordinators compare files by hash).
"""

from __future__ import annotations

import zipfile
from typing import Any


# zlib's fastest level: a report is written once per unit and batch, and compressing its parts at
# the default level (6) was a tenth of the report stage; the file is about a third larger (≈80 KB)
COMPRESS_LEVEL = 1


class _FixedTimeZip:
    """python-docx's package writer interface, writing zip entries with a fixed time.

    python-docx stamps entries with the current time; fixed times make reports byte-identical
    for the same inputs whatever the number of workers, without re-zipping the saved file.
    """

    def __init__(self, target: str, replace: dict[str, Any] | None = None) -> None:
        self._z = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self._replace = replace or {}

    def write(self, pack_uri, blob: bytes) -> None:
        fix = self._replace.get(pack_uri.membername)
        if fix is not None:
            blob = fix(blob)
        info = zipfile.ZipInfo(pack_uri.membername, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        self._z.writestr(info, blob, compresslevel=COMPRESS_LEVEL)

    def close(self) -> None:
        self._z.close()


def save_package(document, target, replace: dict[str, Any] | None = None) -> None:
    """Save a python-docx document as python-docx would, with fixed entry times, and with
    ``replace[member](blob)`` applied to the named parts as they are written. Used for the
    reports and for the template build, so both are byte-reproducible."""
    from docx.opc.pkgwriter import PackageWriter

    package = document.part.package
    for part in package.parts:  # as OpcPackage.save does
        part.before_marshal()
    writer = _FixedTimeZip(target, replace)
    try:
        PackageWriter._write_content_types_stream(writer, package.parts)
        PackageWriter._write_pkg_rels(writer, package.rels)
        PackageWriter._write_parts(writer, package.parts)
    finally:
        writer.close()
