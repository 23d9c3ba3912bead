import gc

gc.disable()  # before the imports too: see accuse.cli.app.main

from accuse.cli.app import entry  # noqa: E402

entry()
