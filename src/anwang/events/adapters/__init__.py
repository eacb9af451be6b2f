"""Device adapters: one module per native format, each behind :class:`~.base.Adapter`."""
