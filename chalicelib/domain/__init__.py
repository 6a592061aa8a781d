"""The domain core: plain Python, no chalice or boto3 import.

Everything here is deterministic given its inputs (clock values are passed
in), so it is tested without any AWS.
"""
