from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_status_date_schedule')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Task',
            name='remaining_duration_days',
            field=fields.IntField(null=True),
        ),
    ]
