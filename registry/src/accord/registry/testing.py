"""pytest fixtures that run a real registry on free ports for the test session."""
