"""Phoenix message contracts: the only vocabulary services share.

This package depends on msgspec alone. Events are facts (past tense, frozen,
keyword-only), commands are wishes (imperative). Each family module declares
its subjects beside its types.
"""
