"""A quicker ``__init__`` for the frozen dataclasses drafting makes by the thousand.

A frozen dataclass's generated ``__init__`` sets each field through ``object.__setattr__`` (plain
assignment is refused), which is most of what making a line, an explanation or a consumption record
costs. ``quick_init`` swaps in an ``__init__`` that fills the instance's ``__dict__`` in one step:
the same parameters, defaults, default factories, keyword-only fields and ``__post_init__`` call, so
instances are indistinguishable (tests/unit/rules/test_quick_init.py checks this on every class).
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen dataclass ``cls`` an ``__init__`` that writes its fields at once."""
    params: list[str] = []
    assigns: list[str] = []
    prelude: list[str] = []
    names: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    keyword_only = False
    initvar = getattr(dataclasses, "_FIELD_INITVAR", None)
    for f in cls.__dataclass_fields__.values():
        if initvar is not None and getattr(f, "_field_type", None) is initvar:
            raise TypeError(f"quick_init does not handle InitVar fields ({cls.__name__}.{f.name})")
    for f in dataclasses.fields(cls):
        if not f.init:
            raise TypeError(f"quick_init does not handle init=False fields ({cls.__name__}.{f.name})")
        if f.kw_only and not keyword_only:
            params.append("*")
            keyword_only = True
        if f.default is not dataclasses.MISSING:
            names[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            prelude.append(f"    if {f.name} is _MISSING:\n        {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
        assigns.append(f"{f.name!r}: {f.name}")
    names["_set"] = object.__setattr__
    body = prelude + [f"    _set(self, '__dict__', {{{', '.join(assigns)}}})"]
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, names)  # noqa: S102 - the source is built above from the class's own field names
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = f"Make a {cls.__name__} (fields as the dataclass declares them)."
    cls.__init__ = init  # type: ignore[misc]
    return cls
