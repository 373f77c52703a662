"""``python -m vigil.cli``: the same as the ``vigil`` script."""

from vigil.cli import main

if __name__ == "__main__":  # not when imported (pytest's doctest collection imports it)
    main()
