"""``python -m phoenix_scheduler``: the scheduler alone, as its container image runs it (no phoenix CLI)."""

from phoenix_scheduler.main import main

if __name__ == "__main__":
    main()
