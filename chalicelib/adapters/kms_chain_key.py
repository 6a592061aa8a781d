"""The history chain's MAC key, derived once per container from a KMS HMAC key.

The key is never stored anywhere: it is KMS ``GenerateMac`` (HMAC-SHA-256) of a fixed label under
the stage's ``HistoryChainKey`` (an HMAC_256 KMS key whose material never leaves KMS). The MAC of a
fixed message under a fixed key is fixed, so every container derives the same chain key, with one KMS
call on its first use and none per transition. Whoever may call ``kms:GenerateMac`` on that key (the
functions that write or verify history) can derive it; a writer to the tables alone cannot.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from ..services.ports import ChainKey

#: What is MACed to derive the chain key; a new label (or a new KMS key) starts a new chain key.
LABEL = b"account-opening/history-chain/v1"


class KmsChainKey(ChainKey):
    def __init__(self, kms: Any, key_id: str):
        self.kms = kms
        self.key_id = key_id
        self._lock = threading.Lock()
        self._secret: Optional[bytes] = None

    def secret(self) -> bytes:
        with self._lock:
            if self._secret is None:
                if not self.key_id:
                    raise RuntimeError("HISTORY_CHAIN_KEY_ARN is not configured: the history cannot be sealed")
                answer = self.kms.generate_mac(KeyId=self.key_id, Message=LABEL, MacAlgorithm="HMAC_SHA_256")
                self._secret = bytes(answer["Mac"])
            return self._secret
