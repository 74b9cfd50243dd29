"""``python -m phoenix_gateway``: what the gateway image runs (no phoenix CLI needed)."""

from phoenix_gateway.main import main

if __name__ == "__main__":
    main()
