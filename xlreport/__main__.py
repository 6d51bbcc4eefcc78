"""``python -m xlreport``: the same as the ``xlreport`` command."""

from xlreport.cli import main

if __name__ == "__main__":
    main()
