"""Regression tests for the hardening issue: each attack or overload seen, answered."""
