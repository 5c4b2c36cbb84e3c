"""Tests of the lab itself: the app, the starter files and the published solution."""
