"""``python -m phoenix_auth``: what the auth image runs (no phoenix CLI needed)."""

from phoenix_auth.main import main

if __name__ == "__main__":
    main()
