"""The adapters Anwang knows, by name."""

from __future__ import annotations

from anwang.events.adapters.base import Adapter, InboundMessage

_adapters: dict[str, Adapter] = {}


def register_adapter(adapter: Adapter) -> None:
    """Make an adapter available to the worker and to HTTP ingestion."""
    _adapters[adapter.name] = adapter


def adapter_named(name: str) -> Adapter | None:
    """The adapter for an HTTP ingestion path, if there is one."""
    _load()
    return _adapters.get(name)


def adapter_for(message: InboundMessage) -> Adapter | None:
    """The first adapter that accepts a message, or ``None`` (a dead letter)."""
    if not _loaded:
        _load()
    for adapter in _adapters.values():
        if adapter.accepts(message):
            return adapter
    return None


_loaded = False


def _load() -> None:
    # Importing the modules registers them; done lazily so importing the registry is cheap.
    global _loaded
    from anwang.events.adapters import anwang_json, frigate, hikvision, zigbee2mqtt  # noqa: F401

    _loaded = True
