from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_owner_remaining_duration')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiToken',
            name='project_ids',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='read_only',
            field=fields.BooleanField(default=False),
        ),
    ]
