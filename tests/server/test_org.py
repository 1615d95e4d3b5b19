from __future__ import annotations

import pytest

from server.errors import Forbidden, Invalid
from server.org import service as org
from server.org.models import Department
from tests import factories as f


async def test_duplicate_department_name_is_refused_on_the_name_field(db):
    await f.department("研发部")
    with pytest.raises(Invalid) as refused:
        await f.department("研发部")
    assert refused.value.field == "name"
    assert await Department.filter(name="研发部").count() == 1


async def test_only_an_admin_creates_departments(db):
    someone = await f.user()
    with pytest.raises(Forbidden):
        await org.create_department(f.actor(someone), name="法务部")
    assert not await Department.filter(name="法务部").exists()
