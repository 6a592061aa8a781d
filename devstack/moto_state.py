"""Saving moto's in-memory AWS to a file and loading it back (``./dev up --keep-state``).

moto has no persistence of its own. Its state is a set of Python objects
(one backend per service, account and region), so it is pickled, with
reductions for what pickle cannot take as is: locks (recreated empty), RSA
keys (as PEM), ``defaultdict``s whose factory is a lambda (recreated from
an empty value of the factory) and weak mappings and sets (recreated from
their entries: e.g. the Lambda backend's index of functions by ARN, which
exists as soon as anything touched Lambda, the deploy rehearsal's stand-ins
included; what they refer to stays only while the rest of the state holds
it). Only the backends that were used are saved.
"""
from __future__ import annotations

import copy
import importlib
import io
import logging
import pickle
import threading
import types
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .files import write_atomically

log = logging.getLogger("devstack")

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
FORMAT = 1


class _Prototype:
    """A picklable stand-in for a lambda ``defaultdict`` factory: copies of one empty value."""

    def __init__(self, empty: Any) -> None:
        self.empty = empty

    def __call__(self) -> Any:
        return copy.deepcopy(self.empty)


def _rebuild_defaultdict(cls: type, factory: Any, state: dict, items: dict) -> defaultdict:
    """Without calling ``cls.__init__``: moto's subclasses want other arguments."""
    rebuilt = cls.__new__(cls)
    defaultdict.__init__(rebuilt, factory)
    if state:
        rebuilt.__dict__.update(state)
    dict.update(rebuilt, items)
    return rebuilt


def _rebuild_weak(cls: type, entries: Any) -> Any:
    return cls(entries)


def _load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def _is_lambda(mapping: defaultdict) -> bool:
    factory = mapping.default_factory
    return isinstance(factory, types.FunctionType) and factory.__name__ == "<lambda>"


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock), ()
        if isinstance(obj, rsa.RSAPrivateKey):
            return _load_private_key, (obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()),)
        if isinstance(obj, (weakref.WeakValueDictionary, weakref.WeakKeyDictionary)):
            return _rebuild_weak, (type(obj), dict(obj.items()))
        if isinstance(obj, weakref.WeakSet):
            return _rebuild_weak, (type(obj), list(obj))
        if isinstance(obj, defaultdict) and (type(obj) is not defaultdict or _is_lambda(obj)):
            factory = _Prototype(obj.default_factory()) if _is_lambda(obj) else obj.default_factory
            return _rebuild_defaultdict, (type(obj), factory, dict(getattr(obj, "__dict__", {})),
                                          dict(obj))
        return NotImplemented


def _backend_dicts() -> list[Any]:
    from moto.core.base_backend import BackendDict

    return list(BackendDict._instances)


def snapshot() -> tuple[bytes, int]:
    """Every used backend, pickled; how many."""
    entries = []
    for backends in _backend_dicts():
        for account_id, regions in dict(backends).items():
            for region, backend in dict(regions).items():
                entries.append((backends.backend, account_id, region, backend))
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump((FORMAT, entries))
    return buffer.getvalue(), len(entries)


def save(path: Path, data: bytes | None = None, as_of: float | None = None) -> int:
    """Write every used backend (or a :func:`snapshot`'s bytes) to ``path``; returns how many were saved (0 for
    given bytes). ``as_of``: the wall-clock time the state is of (the file's modification time)."""
    count = 0
    if data is None:
        data, count = snapshot()
    write_atomically(path, data, mtime=as_of)
    return count


def _backend_dict_of(backend_class: type) -> Any:
    from moto.core.base_backend import BackendDict

    module_name = backend_class.__module__
    while module_name:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, BackendDict) and value.backend is backend_class:
                return value
        module_name = module_name.rpartition(".")[0]
    raise LookupError(f"no BackendDict for {backend_class.__qualname__}")


def load(path: Path) -> int:
    """Put the saved backends in place (before moto serves); returns how many."""
    version, entries = pickle.loads(path.read_bytes())
    if version != FORMAT:
        raise ValueError(f"{path}: saved by another devstack version ({version})")
    for backend_class, account_id, region, backend in entries:
        regions = _backend_dict_of(backend_class)[account_id]
        dict.__setitem__(regions, region, backend)
    return len(entries)
