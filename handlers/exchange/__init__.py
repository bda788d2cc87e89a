"""Exchange schemes: sign-up, lead review, introductions and follow-through."""
