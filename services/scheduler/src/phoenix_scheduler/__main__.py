"""``python -m phoenix_scheduler``: what the scheduler image runs (no phoenix CLI needed)."""

from phoenix_scheduler.main import main

if __name__ == "__main__":
    main()
