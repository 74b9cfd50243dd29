"""``python -m phoenix_evaluator``: what the evaluator image runs (no phoenix CLI needed)."""

from phoenix_evaluator.main import main

if __name__ == "__main__":
    main()
