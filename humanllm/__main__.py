"""`python -m humanllm` runs the CLI."""

from humanllm.cli import main

main()
