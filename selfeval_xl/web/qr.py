"""QR codes for the units' links on the print page (#20): a clerk points a phone at the sheet
the coordinator printed instead of typing a 60-character address.

Why segno: pure Python (no Pillow, no C extension, the same wheel on Windows), maintained, and it
writes SVG itself — the code goes into the page inline, so printing or saving it as PDF needs
no image files and no request per unit.
"""

from __future__ import annotations

from markupsafe import Markup


def qr_svg(text: str, scale: int = 3) -> Markup:
    """An inline ``<svg>`` of ``text`` (error correction M: a creased or smudged printout still
    reads), sized in CSS pixels; safe to put in a Jinja page as is (segno escapes nothing the
    caller typed: the text is encoded as modules, not written into the markup)."""
    import segno

    code = segno.make(text, error="m", micro=False)
    return Markup(code.svg_inline(scale=scale, border=2, dark="#000", light="#fff",
                                  svgclass="qr", title=None))
