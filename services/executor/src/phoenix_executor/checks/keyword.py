"""The ``keyword`` check: an HTTP request whose body must (or must not) contain a word.

The request is the ``http`` check's (``fetch_accepted``); only the judgement
of the body is this module's.
"""

from __future__ import annotations

from phoenix_contracts.monitors import MonitorSpec

from phoenix_executor.checks.base import CheckContext, Outcome
from phoenix_executor.checks.http import fetch_accepted


class KeywordCheck:
    type = "keyword"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        answer = await fetch_accepted(spec, ctx)
        if isinstance(answer, Outcome):
            return answer
        text, word = answer.text, spec.keyword
        if not spec.keyword_case_sensitive:
            text, word = text.casefold(), word.casefold()
        found = word in text
        if spec.keyword_mode == "contains":
            ok, verdict = found, "found" if found else "not found"
        else:
            ok, verdict = not found, "absent" if not found else "found but must be absent"
        return answer.outcome(ok, "keyword", f'keyword "{spec.keyword}" {verdict}')
