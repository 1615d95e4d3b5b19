from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0025_calendar_edition')]

    initial = False

    operations = [
        ops.AddIndex(model_name='Dependency', index=Index(fields=['project_id'])),
        ops.AddIndex(model_name='Dependency', index=Index(fields=['successor_id'])),
        ops.AddIndex(model_name='Dependency', index=Index(fields=['predecessor_id'])),
    ]
