"""``python -m phoenix_executor``: what the executor image runs (no phoenix CLI needed)."""

from phoenix_executor.main import main

if __name__ == "__main__":
    main()
