"""quick_init gives frozen dataclasses a faster __init__ that behaves exactly like the generated one."""

import dataclasses
import inspect
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

import rules.calendar
import rules.draft
import rules.engine.schedule
import rules.events
import rules.keys
import rules.window
from rules.quick import quick_init

QUICK = [cls for module in (rules.draft, rules.keys, rules.events, rules.engine.schedule, rules.window, rules.calendar)
         for cls in vars(module).values()
         if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__
         and cls.__init__.__doc__ and cls.__init__.__doc__.startswith("Make a")]


def _sample_class():
    @dataclass(frozen=True, kw_only=False)
    class Sample:
        name: str
        amount: Decimal = Decimal("1.00")
        tags: dict = field(default_factory=dict)
        _: dataclasses.KW_ONLY
        flag: bool = False
        note: str | None = None

        def __post_init__(self) -> None:
            if not self.name:
                raise ValueError("name is required")
            object.__setattr__(self, "name", self.name.strip())

    return Sample


def test_the_hot_draft_types_use_the_quick_init():
    names = {cls.__name__ for cls in QUICK}
    assert {"DraftLine", "Explanation", "UsageConsumed", "InvoiceDraft", "Consumption", "BusinessKey", "Event",
            "DuePeriod", "Window", "BillingPeriod"} <= names


@pytest.mark.parametrize("cls", QUICK, ids=[c.__name__ for c in QUICK])
def test_a_quick_init_takes_exactly_the_parameters_the_dataclass_declares(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        assert (p.kind is inspect.Parameter.KEYWORD_ONLY) == f.kw_only
        if f.default is not dataclasses.MISSING:
            assert p.default is f.default
        elif f.default_factory is dataclasses.MISSING:
            assert p.default is inspect.Parameter.empty


def test_a_quick_init_matches_the_generated_one_on_values_defaults_factories_and_post_init():
    plain, quick = _sample_class(), quick_init(_sample_class())
    for make in (lambda c: c(" Northwind "), lambda c: c("Northwind IT", Decimal("37.5"), {"a": 1}, flag=True)):
        a, b = make(plain), make(quick)
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert repr(a).replace("_sample_class.<locals>.", "") == repr(b).replace("_sample_class.<locals>.", "")
    assert quick("x").tags is not quick("y").tags  # each instance gets its own default
    with pytest.raises(ValueError, match="name is required"):
        quick("")
    with pytest.raises(TypeError):
        quick("x", flag=True, colour="red")
    with pytest.raises(TypeError):
        quick("x", Decimal(1), {}, True)  # flag is keyword-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick("x").name = "y"
    assert dataclasses.replace(quick("x"), amount=Decimal(2)).amount == Decimal(2)
    assert quick("x") == quick("x") and hash(quick("x", tags=None)) == hash(quick("x", tags=None))


def test_quick_init_refuses_fields_it_cannot_build():
    @dataclass(frozen=True)
    class WithInitVar:
        name: str
        seed: dataclasses.InitVar[int] = 0

        def __post_init__(self, seed: int) -> None:
            pass

    @dataclass(frozen=True)
    class WithoutInit:
        name: str
        cached: int = field(default=0, init=False)

    for cls in (WithInitVar, WithoutInit):
        with pytest.raises(TypeError, match="quick_init does not handle"):
            quick_init(cls)
