"""Benchmarks and browser tooling for the dashboard (not imported by the app)."""
