"""The schema revisions, one module each: ``vNNNN_slug.py`` holds revision ``NNNN``."""
