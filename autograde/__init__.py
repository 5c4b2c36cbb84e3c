"""Autograder for LAB04 — Optimizing Images with Multi-Stage Dockerfile Builds."""

__version__ = "1.5.0"
