"""Loading and validating intents/ and content/ (YAML), with errors located by file:line."""
