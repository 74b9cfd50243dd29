"""``python -m phoenix_notifier``: the notifier alone, as its container image runs it (no phoenix CLI)."""

from phoenix_notifier.main import main

if __name__ == "__main__":
    main()
