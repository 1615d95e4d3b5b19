from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_signoffs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TaskUpdate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='updates', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='task_updates', on_delete=OnDelete.SET_NULL)),
                ('percent_complete', fields.IntField()),
                ('note', fields.TextField(default='', unique=False)),
                ('blocker', fields.BooleanField(default=False)),
                ('actual_finish', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'task_update', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
