from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_meetings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WorkingDayCount',
            fields=[
                ('ordinal', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField(unique=True)),
                ('count_before', fields.IntField()),
                ('count_through', fields.IntField()),
                ('listed', fields.BooleanField()),
            ],
            options={'table': 'working_day_count', 'app': 'models', 'pk_attr': 'ordinal'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['project_id']),
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['parent_id']),
        ),
    ]
