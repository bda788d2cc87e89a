"""App Home: welcome, profile, community settings and leads, and each feature's section."""
