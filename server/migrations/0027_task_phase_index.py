from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0026_dependency_indexes')]

    initial = False

    operations = [
        # A task's form lists the phases it may go under: the tasks some task of the
        # project names as its parent, read from this index, not the project's every row.
        ops.AddIndex(model_name='Task', index=Index(fields=['project_id', 'parent_id'])),
    ]
