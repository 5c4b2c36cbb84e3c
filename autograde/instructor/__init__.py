"""Instructor side: read a class's grade reports, build a gradebook, collect from GitHub."""
