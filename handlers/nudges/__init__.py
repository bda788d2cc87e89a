"""A member's nudge settings in App Home."""
