"""App Home: what a member sees of every feature, their profile, and the community's
settings and leads for leads."""
