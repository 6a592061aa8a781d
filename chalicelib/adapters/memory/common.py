"""What the fakes share: values stored as DynamoDB and SNS would give them back."""

from __future__ import annotations

import json
from typing import Any


def _json_copy(value: Any) -> Any:
    """What a round trip through DynamoDB (JSON attributes) or SNS gives back: a fresh, plain copy."""
    return json.loads(json.dumps(value))
