"""Fill a workbook *through LibreOffice* (UNO), as a clerk using LibreOffice Calc would, and save it.

    /usr/bin/python3 tools/lo_fill.py SRC.xlsx DEST.xlsx VALUES.json

VALUES.json maps sheet name → {"D5": value}: strings are typed with setString (so "=x" stays
text, as in a text-formatted cell), numbers with setValue. The file is then saved by LibreOffice's
own "Calc MS Excel 2007 XML" export. Runs with the system Python that carries the uno module
(Debian: python3-uno), in a throw-away LibreOffice profile.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main() -> int:
    src, dest, values_json = sys.argv[1:4]
    profile = tempfile.mkdtemp(prefix="selfeval-uno-")
    pipe = f"selfeval{os.getpid()}"
    proc = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                             "--nolockcheck", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(150):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.2)
        if ctx is None:
            print("could not connect to soffice", file=sys.stderr)
            return 1
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0,
                                           (prop("Hidden", True),))
        with open(values_json, encoding="utf-8") as f:
            data = json.load(f)
        for sheet, cells in data.items():
            sh = doc.Sheets.getByName(sheet)
            for addr, v in cells.items():
                cell = sh.getCellRangeByName(addr)
                if isinstance(v, str):
                    cell.setString(v)
                else:
                    cell.setValue(v)
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dest)), (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass
    finally:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
