"""Vigil's HTTP server: a versioned REST API (FastAPI) over the store and the runtime."""
