"""autobill's tables: one module per area, one shared ``Base``.

Importing this package imports every model module, so ``Base.metadata`` is complete for
Alembic and for the test that compares the models with the migrations. A later area adds its
module to ``MODEL_MODULES``.
"""

from __future__ import annotations

import importlib

from addon.models.base import Base, UTCDateTime, new_id

MODEL_MODULES = [
    "addon.models.companies", "addon.models.audit", "addon.models.work",
    "addon.models.inbox", "addon.models.events", "addon.models.mappings", "addon.models.agreements",
    "addon.models.usage", "addon.models.postings",
]

for _name in MODEL_MODULES:
    importlib.import_module(_name)

__all__ = ["Base", "UTCDateTime", "new_id", "MODEL_MODULES"]
