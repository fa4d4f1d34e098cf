"""Realistic county data: sample rows per dataset and the writers that lay them out as bureaus do."""
