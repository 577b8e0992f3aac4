"""``python -m selfeval_xl`` — the command line, where ``selfeval-xl`` is not on PATH."""

from .cli import main

main()
