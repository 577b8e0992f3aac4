"""``python -m selfeval_xl.cli`` — the command line, where ``selfeval-xl`` is not on PATH."""

from . import main

main()
