"""Nudges: who may be messaged about what, and when (time zone, quiet hours, budget,
opt-outs, snooze). Every scheduled message goes through ``send`` into the outbox."""
