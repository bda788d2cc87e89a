"""Learning summaries: redaction, token budgets and the digest and case-study summariser."""
