"""Account-opening application code shipped in the Lambda package."""
