"""The contracts every other package builds on; imports nothing else from the project."""
