"""``python -m phoenix_gateway``: the gateway alone, as its container image runs it (no phoenix CLI)."""

from phoenix_gateway.main import main

if __name__ == "__main__":
    main()
