"""Pulse checks: short, anonymous-by-construction check-ins with safe results.

``actions`` holds the use cases the listeners call; ``questions`` validates what a lead
writes, ``service`` designs, opens, answers, reminds and closes runs, ``results`` computes
what leads see, and ``messages`` what pulses say (drawn by ``handlers/pulse/views.py``).
"""
