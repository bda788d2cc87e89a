"""Learning: capture, digests, case studies."""
