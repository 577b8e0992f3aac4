"""The coordinator's workspace: ``selfeval-xl serve`` (a local web page over SQLite)."""
