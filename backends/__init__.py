"""Built-in backends, installed as ``seqspec.backends``: one package per framework.

Each package exports ``backend`` (a :class:`seqspec.registry.Backend`); the registry imports
them by name, so adding a backend touches no other backend.
"""
