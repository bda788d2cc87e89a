"""Pulse checks: short, anonymous-by-construction check-ins with safe results.

``actions`` holds the use cases the listeners call and ``jobs`` the scheduled ones. The
rules: ``questions`` checks what a lead writes, ``design`` the pulse and its audience,
``runs`` opens runs and reminds, ``answers`` seals each member's ballot while a run is
open, ``closing`` opens them all at once, ``results`` computes what leads see and
``themes`` what people wrote; ``messages`` is what pulses say (drawn by
``handlers/pulse/views.py``).
"""
