"""``python -m phoenix_auth``: the auth alone, as its container image runs it (no phoenix CLI)."""

from phoenix_auth.main import main

if __name__ == "__main__":
    main()
