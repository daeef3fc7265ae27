"""Pure commerce rules and models: no boto3, no HTTP, no implicit clock or randomness."""
