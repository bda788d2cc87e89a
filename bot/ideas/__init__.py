"""Ideas, Idea Drop-style: capture, support, decisions ("you said, we did"), challenges."""
