"""humanllm: make language models behave like people by simulating psychological patterns."""

__version__ = "0.1.0"
