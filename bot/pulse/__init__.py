"""Pulse checks: short, anonymous-by-construction check-ins with safe results.

``questions`` validates what a lead writes, ``service`` designs, opens, answers, reminds
and closes runs, ``messages`` builds the member's DM, ``results`` computes what leads see.
"""
