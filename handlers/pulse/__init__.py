"""Pulse checks: /pulse, the designer, one-tap answers in DMs, results for leads."""
