"""Monitoring jobs: baselining and analysing data against a baseline."""
