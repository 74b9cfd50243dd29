"""``python -m phoenix_notifier``: what the notifier image runs (no phoenix CLI needed)."""

from phoenix_notifier.main import main

if __name__ == "__main__":
    main()
