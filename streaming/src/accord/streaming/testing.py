"""pytest fixtures that run a real streaming on free ports for the test session."""
