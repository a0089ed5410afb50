"""tieragent: a coding agent that sizes the model to the task."""

__version__ = "0.1.0"
