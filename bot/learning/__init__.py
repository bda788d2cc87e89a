"""Learning summaries: token budgets and the digest and case-study summariser (redaction is
in ``bot.redaction``)."""
