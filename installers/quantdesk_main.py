"""The bundle's entry point: the same as the `quantdesk` command and `python -m app`."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app must not re-run main() in child processes
    sys.exit(main())
