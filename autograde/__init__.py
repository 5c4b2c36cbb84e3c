"""Autograder for LAB04 — Optimizing Images with Multi-Stage Dockerfile Builds."""

__version__ = "1.6.0"
