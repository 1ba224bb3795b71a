"""The local web viewer (issue 19)."""
