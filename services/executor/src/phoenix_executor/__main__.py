"""``python -m phoenix_executor``: the executor alone, as its container image runs it (no phoenix CLI)."""

from phoenix_executor.main import main

if __name__ == "__main__":
    main()
