"""pytest fixtures that run a real gateway on free ports for the test session."""
