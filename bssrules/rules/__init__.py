"""The rule language (YAML rule sets compiled onto durable-rules): arrives with issue 3."""
