"""``python -m phoenix_evaluator``: the evaluator alone, as its container image runs it (no phoenix CLI)."""

from phoenix_evaluator.main import main

if __name__ == "__main__":
    main()
