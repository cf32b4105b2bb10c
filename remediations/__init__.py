"""Remediations: plain functions over the runner, each paired with a check in checks/."""
