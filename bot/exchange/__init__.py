"""Exchange schemes: matching people across organisations and professions."""
