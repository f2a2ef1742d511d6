"""Driftline's HTTP API (CONTRACT section 5): ``create_app()`` builds the FastAPI application."""
